import { useCallback, useEffect, useState } from 'react';
import { ApiError, fetchLimits, fetchStyles, type Limits, type StyleList } from '../api';
import { parseRoute, pathOf, type Route } from '../lib/route';
import { defaultSettings, type Settings } from '../lib/settings';
import type { AudioSource } from '../lib/source';
import { About } from '../pages/About';
import { BatchPage } from '../pages/BatchPage';
import { Faq } from '../pages/Faq';
import { JobPage } from '../pages/JobPage';
import { Landing } from '../pages/Landing';
import { NotFound } from '../pages/NotFound';
import { ErrorPanel } from './ErrorPanel';
import { Link } from './Link';

export function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.pathname));
  const [catalog, setCatalog] = useState<StyleList | null>(null);
  const [catalogError, setCatalogError] = useState<ApiError | null>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [limits, setLimits] = useState<Limits | null>(null);
  // Here rather than in the landing page, which unmounts while a job runs: a failed or cancelled job, or a
  // look at the FAQ, comes back to the file that was chosen.
  const [source, setSource] = useState<AudioSource | null>(null);
  // Several files chosen at once: an album, enriched with the same settings and downloaded as one zip.
  const [album, setAlbum] = useState<AudioSource[] | null>(null);
  const chooseSource = useCallback((next: AudioSource) => {
    setSource(next);
    setAlbum(null);
  }, []);
  const chooseAlbum = useCallback((next: AudioSource[]) => {
    setAlbum(next);
    setSource(null);
  }, []);

  const loadStyles = useCallback(() => {
    setCatalogError(null);
    fetchStyles().then(
      (list) => {
        setCatalog(list);
        setSettings((current) => current ?? defaultSettings(list.defaultStyle));
      },
      (error: unknown) => setCatalogError(error instanceof ApiError ? error : new ApiError('NETWORK', 'The styles could not be loaded.', 0)),
    );
  }, []);
  useEffect(loadStyles, [loadStyles]);
  // Without them the browser only skips its own checks; the server still applies the same limits.
  useEffect(() => {
    fetchLimits().then(setLimits, () => undefined);
  }, []);

  useEffect(() => {
    const onPop = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback((next: Route) => {
    window.history.pushState(null, '', pathOf(next));
    setRoute(next);
    window.scrollTo(0, 0);
  }, []);
  const home = () => navigate({ page: 'home' });

  let page;
  if (route.page === 'about') page = <About styles={catalog?.styles ?? []} />;
  else if (route.page === 'notFound') page = <NotFound onHome={home} />;
  else if (route.page === 'faq') page = <Faq limits={limits} />;
  else if (catalogError)
    page = (
      <ErrorPanel code={catalogError.code} message={catalogError.message}>
        <button type="button" onClick={loadStyles}>
          Try again
        </button>
      </ErrorPanel>
    );
  else if (!catalog || !settings) page = <p role="status">Loading…</p>;
  else if (route.page === 'batch') page = <BatchPage id={route.id} onHome={home} />;
  else if (route.page === 'job')
    page = (
      <JobPage
        id={route.id}
        styles={catalog.styles}
        onHome={home}
        onReuse={(reused) => {
          setSettings(reused);
          home();
        }}
      />
    );
  else
    page = (
      <Landing
        styles={catalog.styles}
        limits={limits}
        settings={settings}
        onSettings={setSettings}
        source={source}
        onSource={chooseSource}
        album={album}
        onAlbum={chooseAlbum}
        onStarted={(job) => navigate({ page: 'job', id: job.id })}
        onAlbumStarted={(batch) => navigate({ page: 'batch', id: batch.id })}
      />
    );

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to={{ page: 'home' }} navigate={navigate} className="brand">
          Noise Enricher
        </Link>
        <nav aria-label="Main">
          <Link to={{ page: 'about' }} navigate={navigate}>
            How it works
          </Link>
          <Link to={{ page: 'faq' }} navigate={navigate}>
            FAQ
          </Link>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <footer className="site-footer">
        <p>Files are deleted after a while; see the FAQ. Example clips and models are made by this project.</p>
      </footer>
    </>
  );
}
