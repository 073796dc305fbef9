#!/usr/bin/env bash
# Makes the example clips from nothing but ffmpeg's signal generators and espeak-ng, so they are ours to license (CC0).
set -euo pipefail
cd "$(dirname "$0")"
FFMPEG=${FFMPEG:-ffmpeg}
ENC=(-ac 1 -ar 44100 -c:a libmp3lame -b:a 64k)
# A plucked pentatonic melody, one note every quarter second.
"$FFMPEG" -hide_banner -loglevel error -y -f lavfi -i \
  "aevalsrc='0.5*sin(2*PI*261.63*pow(2,(2*floor(mod(t*4,5))+5*floor(mod(t,2)))/12)*t)*exp(-6*mod(t,0.25))':s=44100:d=8" \
  -af "aecho=0.8:0.6:120:0.3" "${ENC[@]}" music-box.mp3
# Kick on every beat and a hi-hat on every off-beat at 120 BPM.
"$FFMPEG" -hide_banner -loglevel error -y -f lavfi -i \
  "aevalsrc='0.8*sin(2*PI*50*mod(t,0.5)*(1+3*exp(-25*mod(t,0.5))))*exp(-7*mod(t,0.5))+0.12*(2*random(0)-1)*exp(-45*mod(t+0.25,0.5))':s=44100:d=8" \
  "${ENC[@]}" drum-loop.mp3
espeak-ng -s 150 -w /tmp/voice-memo.wav "Note to self. Buy milk, call Sam back, and finish the chorus of the new song before Friday."
"$FFMPEG" -hide_banner -loglevel error -y -i /tmp/voice-memo.wav "${ENC[@]}" voice-memo.mp3
rm -f /tmp/voice-memo.wav
# The before/after pair at the top of the landing page: the music box enriched by this project's own model.
(cd ../../../.. && npm run --silent enrich -- node_app/web/public/examples/music-box.mp3 --style rain --amount 0.7 --seed 7 \
  -o node_app/web/public/examples/music-box.rain.mp3)
