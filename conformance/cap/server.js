// Serves on loopback only (HOST, default 127.0.0.1): CAP's own server listens on every
// interface, and this conformance peer is for tests on this machine.
const cds = require('@sap/cds')

cds.on('bootstrap', (app) => {
  const listen = app.listen.bind(app)
  app.listen = (port) => listen(port, process.env.HOST || '127.0.0.1')
})

module.exports = cds.server
