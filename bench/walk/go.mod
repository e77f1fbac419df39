module rlscov.dev/benchwalk

go 1.19
