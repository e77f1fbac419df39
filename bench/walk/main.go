// Command benchwalk is the baseline of rlscov's benchmark: it does what an in-tree Go guard does before any
// analysis, namely walk a tree and parse every Go file with go/parser (ParseComments), and nothing else.
//
// It walks each directory argument with the same exclusions as rlscov: directories named vendor, testdata or
// node_modules and hidden directories (".*") are skipped, as are hidden files, *_test.go files and generated files
// (a "// Code generated ... DO NOT EDIT." line before the package clause; pass -generated to parse them too).
// Symbolic links are not followed into directories. Files are parsed one after another on one goroutine (pass
// -j N to parse on N goroutines).
//
// Output: one JSON object on stdout: {"files":N,"bytes":B,"parseErrors":E,"skippedGenerated":G,"seconds":S}.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

var generatedRE = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// isGenerated reports whether the marker line appears before the first line that is neither blank nor a comment
// (looking at the first 4 KB, like rlscov).
func isGenerated(src []byte) bool {
	head := src
	if len(head) > 4096 {
		head = head[:4096]
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	inBlock := false
	for _, raw := range strings.Split(string(head), "\n") {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		for {
			if inBlock {
				end := strings.Index(line, "*/")
				if end < 0 {
					line = ""
					break
				}
				inBlock = false
				line = strings.TrimSpace(line[end+2:])
			} else if strings.HasPrefix(line, "/*") {
				inBlock = true
				line = line[2:]
			} else {
				break
			}
		}
		if line == "" {
			continue
		}
		if generatedRE.MatchString(line) {
			return true
		}
		if strings.HasPrefix(line, "//") {
			continue
		}
		return false
	}
	return false
}

type result struct {
	Files            int     `json:"files"`
	Bytes            int64   `json:"bytes"`
	ParseErrors      int     `json:"parseErrors"`
	SkippedGenerated int     `json:"skippedGenerated"`
	Seconds          float64 `json:"seconds"`
}

func main() {
	withGenerated := flag.Bool("generated", false, "also parse generated files")
	withTests := flag.Bool("tests", false, "also parse *_test.go files")
	jobs := flag.Int("j", 1, "files parsed at once")
	list := flag.Bool("list", false, "print the parsed files' paths to stderr")
	flag.Parse()
	dirs := flag.Args()
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	start := time.Now()
	var paths []string
	for _, root := range dirs {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchwalk: %v\n", err)
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			name := d.Name()
			if d.IsDir() {
				if p != root && (name == "vendor" || name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") {
				return nil
			}
			if !*withTests && strings.HasSuffix(name, "_test.go") {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if st, err := os.Stat(p); err != nil || st.IsDir() {
					return nil
				}
			}
			paths = append(paths, p)
			return nil
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchwalk: %v\n", err)
			os.Exit(2)
		}
	}

	var mu sync.Mutex
	var res result
	work := make(chan string)
	var wg sync.WaitGroup
	n := *jobs
	if n < 1 {
		n = 1
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				src, err := os.ReadFile(p)
				if err != nil {
					fmt.Fprintf(os.Stderr, "benchwalk: %v\n", err)
					continue
				}
				if !*withGenerated && isGenerated(src) {
					mu.Lock()
					res.SkippedGenerated++
					mu.Unlock()
					continue
				}
				fset := token.NewFileSet()
				_, perr := parser.ParseFile(fset, p, src, parser.ParseComments)
				mu.Lock()
				res.Files++
				res.Bytes += int64(len(src))
				if perr != nil {
					res.ParseErrors++
				}
				mu.Unlock()
				if *list {
					fmt.Fprintln(os.Stderr, p)
				}
			}
		}()
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
