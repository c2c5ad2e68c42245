// Stand-in for @tensorflow/tfjs-backend-wasm, which face-api.node-wasm.js re-exports but which is
// not installed here. The parity tests use tfjs's CPU backend, so nothing from it is needed.
module.exports = {};
