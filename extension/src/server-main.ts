// Entry point of the bundled language server (dist/server.js), started by the client over stdio.
import { startStdioServer } from '../../server/src/node.js';

startStdioServer();
