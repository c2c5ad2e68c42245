export { readLuaScript } from './read-lua-script.js';
