// Did-you-mean suggestions live in the syntax layer (the parser suggests keywords too); re-exported
// here, where the checker and the services have always imported them.
export { editDistance, suggest } from '../syntax/suggest.js';
