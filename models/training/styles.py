"""The style catalogue: manifest metadata and how each style's training layer is made."""

# ratio: RMS of the style layer relative to the dry music's RMS in the training targets.
# At the engine's default amount (0.5) the layer then sits about 6 dB under the music.
STYLES = [
    dict(id="rain", label="Rain", kind="nature", ratio=1.0,
         description="Rain on the roof that thickens when the music swells."),
    dict(id="thunderstorm", label="Thunderstorm", kind="nature", ratio=1.1,
         description="Thunder rolling in on the hits over a light rain."),
    dict(id="sea-waves", label="Sea waves", kind="nature", ratio=1.0,
         description="Surf that swells and breaks with the music's dynamics."),
    dict(id="wind", label="Wind", kind="nature", ratio=1.0,
         description="Gusting wind whose whistle rises with the loud passages."),
    dict(id="birds", label="Birds", kind="nature", ratio=0.9,
         description="Bird-like chirps sparked by the notes of the melody."),
    dict(id="fire", label="Campfire", kind="nature", ratio=1.0,
         description="A crackling fire that spits harder when the music pushes."),
    dict(id="blues", label="Blues", kind="genre", ratio=1.0,
         description="A swung blues colour: shuffle rhythm, bass and bluesy drive on your chords."),
    dict(id="hip-hop", label="Hip-hop", kind="genre", ratio=1.0,
         description="A boom-bap beat feel with deep bass locked to your groove."),
    dict(id="metal", label="Metal", kind="genre", ratio=1.0,
         description="Distorted, palm-muted chug and double-kick drive on your riff."),
    dict(id="piano", label="Piano", kind="instrument", ratio=1.0,
         description="A piano-like re-voicing of your melody and harmony."),
    dict(id="vinyl", label="Vinyl crackle", kind="texture", ratio=0.8,
         description="Old record crackle, clicks and a worn narrow-band colour."),
    dict(id="tape", label="Tape hiss & wobble", kind="texture", ratio=0.9,
         description="Cassette hiss with a wobbling, saturated copy of the music."),
]
DEFAULT_STYLE = "rain"
