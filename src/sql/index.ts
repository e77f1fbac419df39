// Public surface of src/sql: classify SQL texts (with holes) into statements.
export { loadSqlParser, classifySql, seedSqlClassifications, sqlClassifications } from './classify.js';
export { renderSqlText, scanSql } from './scanner.js';
export { normalizeIdent, normalizeTableName, normalizeFunctionName } from './names.js';
