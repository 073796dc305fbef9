"""The style catalogue: manifest metadata and how each style's training layer is made."""

# ratio: RMS of the style layer relative to the dry music's RMS in the training targets.
# At the engine's default amount (0.5) the layer then sits about 6 dB under the music.
STYLES = [
    dict(id="rain", label="Rain", kind="nature", ratio=1.0,
         description="Real recorded rain that swells with the music's loud passages."),
    dict(id="thunderstorm", label="Thunderstorm", kind="nature", ratio=1.1,
         description="Real rain with thunder rolling in on the big accents."),
    dict(id="sea-waves", label="Sea waves", kind="nature", ratio=1.0,
         description="Real surf breaking on its own swell, louder in loud sections."),
    dict(id="wind", label="Wind", kind="nature", ratio=1.0,
         description="A real gusting storm wind that rises with the loud passages."),
    dict(id="birds", label="Birds", kind="nature", ratio=0.9,
         description="Real bird calls that answer where the music rests."),
    dict(id="fire", label="Campfire", kind="nature", ratio=1.0,
         description="A real crackling campfire that grows when the music pushes."),
    dict(id="blues", label="Blues", kind="genre", ratio=1.6,
         description="A swung blues colour: shuffle rhythm, bass and bluesy drive on your chords."),
    dict(id="hip-hop", label="Hip-hop", kind="genre", ratio=1.9,
         description="A boom-bap beat feel with deep bass locked to your groove."),
    dict(id="metal", label="Metal", kind="genre", ratio=1.15,
         description="Distorted, palm-muted chug and double-kick drive on your riff."),
    dict(id="piano", label="Piano", kind="instrument", ratio=1.45,
         description="A piano-like re-voicing of your melody and harmony."),
    dict(id="vinyl", label="Vinyl crackle", kind="texture", ratio=0.8,
         description="Real record hiss and rumble with crackle and a worn narrow-band colour."),
    dict(id="tape", label="Tape hiss & wobble", kind="texture", ratio=0.9,
         description="Cassette hiss with a wobbling, saturated copy of the music."),
    # v3: a recording the user brings (the `texture` upload) is a bank of one; the network learned to shape
    # any of the banks' recordings under this style
    dict(id="own", label="Your own sound", kind="texture", ratio=1.0,
         description="Your own recording, woven in like rain or surf: never looped, its loudest moments as events."),
]
DEFAULT_STYLE = "rain"

# One line per recorded texture, shown with the style (manifest "credit"); full list: models/banks/ATTRIBUTION.md
CREDITS = {
    "rain": "Rain recordings from OpenClonk (openclonk-data, The OpenClonk Team, CC BY 3.0), Ardentryst (Freesound.org "
            "users et al., CC BY-SA 3.0) and 0 A.D. (Wildfire Games, CC BY-SA 3.0)",
    "thunderstorm": "Storm rain and thunder from Q009's ambient pack in Red Eclipse (CC BY 3.0), rain from OpenClonk "
                    "and Ardentryst as in Rain; thunder from OpenClonk (xerana, infopablo, nicStage, jrosin, shaka9 on "
                    "freesound.org; CC BY 3.0), UFO:AI (Baklund, Gren, Hoffmann, Slippycurb; CC BY-SA 3.0) and "
                    "0 A.D. (Wildfire Games, CC BY-SA 3.0)",
    "sea-waves": "Surf recordings from 0 A.D. (0ad-data), 2010 Wildfire Games, CC BY-SA 3.0",
    "wind": "Wind recordings from 0 A.D. (Wildfire Games, CC BY-SA 3.0), OpenClonk (ERH on freesound.org, CC BY 3.0), "
            "UFO:AI (CC BY-SA 3.0), Lugaru (Wolfire Games, CC BY-SA 3.0) and OpenSFX (Anton, CC BY 3.0)",
    "birds": "Bird recordings from OpenClonk and Red Eclipse (Dob \"dobroide\" Roide, CC BY 3.0), 0 A.D. (Wildfire "
             "Games, CC BY-SA 3.0), OpenSFX (SpaceJoe, CC0) and Sonic Pi (davidworksonline, CC0)",
    "fire": "Fire recordings from UFO:AI (CC BY-SA 3.0), OpenClonk (dobroide, CC BY 3.0; tc630, CC0), 0 A.D. "
            "(Wildfire Games, CC BY-SA 3.0) and Lugaru (Wolfire Games, CC BY-SA 3.0)",
    "vinyl": "Vinyl hiss recording by veezay (Sonic Pi samples, freesound.org), CC0",
}
# The licence each loop is shared under (manifest "license", an SPDX id): CC BY-SA 3.0 where any part is.
LICENSES = {sid: "CC0-1.0" if sid == "vinyl" else "CC-BY-SA-3.0" for sid in CREDITS}
