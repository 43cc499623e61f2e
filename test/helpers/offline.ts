// Imported first by every test that starts a PushCam (and by `npm test`): no test announces the
// camera by mDNS on this machine's real network. PUSHCAM_NO_MDNS is the user's own switch for
// that (README, Sharing); the test that checks the announcement clears it for the PushCam it
// runs inside a network namespace of its own.
process.env.PUSHCAM_NO_MDNS = '1';
