import { useState } from 'react';
import { parseRecipe, RecipeError } from '../lib/recipe';
import type { Settings } from '../lib/settings';

/** "Use a recipe": reads a recipe saved from a result and fills in its styles, amount, seed and section. */
export function RecipeLoader({ knownStyles, onLoad }: { knownStyles: readonly string[]; onLoad: (settings: Settings) => void }) {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const read = async (file: File | undefined) => {
    if (!file) return;
    try {
      onLoad(parseRecipe(await file.text(), knownStyles));
      setMessage({ ok: true, text: `Settings loaded from ${file.name}. Choose the audio and press Enrich.` });
    } catch (error) {
      setMessage({ ok: false, text: error instanceof RecipeError ? error.message : 'The recipe could not be read.' });
    }
  };
  return (
    <div className="recipe-loader">
      <label>
        Use a recipe (JSON)
        <input type="file" accept="application/json,.json" onChange={(e) => void read(e.target.files?.[0])} />
      </label>
      {message && <p role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
    </div>
  );
}
