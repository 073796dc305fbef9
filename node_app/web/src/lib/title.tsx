import { useEffect } from 'react';

const SITE = 'The Noise Enricher';

/** Names the page in the tab and in the history list; screen readers announce it on navigation. */
export function usePageTitle(title: string | null): void {
  useEffect(() => {
    document.title = title ? `${title} · ${SITE}` : SITE;
  }, [title]);
}

/** The same, for a branch of a page that has no component of its own. */
export function PageTitle({ title }: { title: string }): null {
  usePageTitle(title);
  return null;
}
