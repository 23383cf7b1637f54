#!/bin/sh
# Run a command with a virtual display (Debian xvfb) of 1920x1080, 16:9:
# for the one test a headless browser cannot do, Firefox capturing a screen
# (scripts/test.sh, group e2e-firefox-headed). The screen is wide, so the
# other side sees a picture wider than the 4:3 camera.
exec xvfb-run -a -s "-screen 0 1920x1080x24" "$@"
