// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Style } from '../api';
import type { Mix } from '../lib/mix';
import { defaultSettings, type Settings } from '../lib/settings';
import { Landing } from '../pages/Landing';
import { MixSliders } from './MixSliders';

const STYLES: Style[] = [
  { id: 'rain', label: 'Rain', kind: 'nature', description: 'Rain on the roof.' },
  { id: 'blues', label: 'Blues', kind: 'genre', description: 'A shuffle.' },
  { id: 'vinyl', label: 'Vinyl crackle', kind: 'texture', description: 'Crackle.' },
];

beforeEach(() => {
  URL.createObjectURL = vi.fn(() => 'blob:preview');
  URL.revokeObjectURL = vi.fn();
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function StatefulSliders() {
  const [mix, setMix] = useState<Mix>({ rain: 100 });
  return <MixSliders styles={STYLES} mix={mix} onChange={setMix} />;
}

describe('MixSliders', () => {
  it('rebalances the other sliders so the mix always shows 100 %', () => {
    render(<StatefulSliders />);
    fireEvent.change(screen.getByRole('slider', { name: /Blues/ }), { target: { value: '30' } });
    expect(screen.getByText('Rain: 70 %')).toBeTruthy();
    expect(screen.getByText('Blues: 30 %')).toBeTruthy();
    fireEvent.change(screen.getByRole('slider', { name: /Vinyl crackle/ }), { target: { value: '50' } });
    expect(screen.getByText('Rain: 35 %')).toBeTruthy();
    expect(screen.getByText('Blues: 15 %')).toBeTruthy();
    expect(screen.getByText('Total: 100 %')).toBeTruthy();
  });
});

function StatefulLanding({ onStarted }: { onStarted: () => void }) {
  const [settings, setSettings] = useState<Settings>(defaultSettings('rain'));
  return <Landing styles={STYLES} settings={settings} onSettings={setSettings} onStarted={onStarted} />;
}

describe('Landing', () => {
  it("shows the API's headline and message when the upload is refused, and sends the chosen style", async () => {
    const message = 'The file is larger than 50 MB. Upload a shorter or compressed file.';
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ error: { code: 'FILE_TOO_LARGE', message } }), { status: 413 }));
    vi.stubGlobal('fetch', fetchMock);
    const onStarted = vi.fn();
    render(<StatefulLanding onStarted={onStarted} />);

    const enrich = screen.getByRole('button', { name: 'Enrich' }) as HTMLButtonElement;
    expect(enrich.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Audio file'), { target: { files: [new File(['RIFF'], 'song.wav', { type: 'audio/wav' })] } });
    fireEvent.click(screen.getByRole('radio', { name: /^Blues/ }));
    fireEvent.click(enrich);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('This file is too large');
    expect(alert.textContent).toContain(message);
    expect(onStarted).not.toHaveBeenCalled();
    const body = (fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1].body as FormData;
    expect(body.get('style')).toBe('blues');
    await waitFor(() => expect(document.activeElement?.textContent).toBe('This file is too large'));
  });
});
