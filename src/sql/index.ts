// Public surface of src/sql: classify SQL texts (with holes) into statements.
export { loadSqlParser, classifySql, forgetSqlClassifications, seedSqlClassifications, sqlClassifications, sqlClassifiedWithoutParser, sqlParserNeeded } from './classify.js';
export { pgReady as sqlParserLoaded } from './pg.js';
export { renderSqlText, scanSql } from './scanner.js';
export { normalizeIdent, normalizeTableName, normalizeFunctionName } from './names.js';
