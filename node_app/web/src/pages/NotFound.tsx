import { usePageTitle } from '../lib/title';

/** Any path the app does not know; the server answers it with status 404 and this page. */
export function NotFound({ onHome }: { onHome: () => void }) {
  usePageTitle('Page not found');
  return (
    <section className="not-found" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Page not found</h1>
      <p>There is nothing at this address. A result's link stops working when its files are deleted, by default an hour after it was made.</p>
      <button type="button" className="primary" onClick={onHome}>
        Enrich a file
      </button>
    </section>
  );
}
