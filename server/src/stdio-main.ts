// `node --import tsx server/src/stdio-main.ts --stdio`: the server's own entry script (the CLI's
// `rein lsp` calls startStdioServer() too).
import { startStdioServer } from './node.js';

startStdioServer();
