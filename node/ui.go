package node

import "embed"

// uiFS holds the dashboard served at /ui/: plain HTML, JS and CSS, no build
// step, no CDN, so it works offline and the binary is all a user needs.
//
//go:embed ui
var uiFS embed.FS
