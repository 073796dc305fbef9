import { useEffect, useRef, type ReactNode } from 'react';
import { errorTitle } from '../lib/errors';
import { PageTitle } from '../lib/title';

/** The page for something that went wrong: a headline, the API's own message, and what to do next. */
export function ErrorPanel({ code, message, children }: { code: string; message: string; children?: ReactNode }) {
  const panel = useRef<HTMLElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // Moving focus here makes screen readers read the error out, and keyboard users start from it. The whole
  // panel is scrolled into view first: focus alone would scroll only the heading in, and on a phone the
  // message under it could stay behind the sticky Enrich bar (the panel's scroll-margin clears the bar).
  useEffect(() => {
    panel.current?.scrollIntoView?.({ block: 'nearest' });
    heading.current?.focus({ preventScroll: true });
  }, [code, message]);
  return (
    <section ref={panel} className="error-panel" role="alert" aria-labelledby="error-title">
      <h2 id="error-title" ref={heading} tabIndex={-1}>
        {errorTitle(code)}
      </h2>
      <p className="error-message">{message}</p>
      <p className="error-code">Error code: {code}</p>
      {children}
    </section>
  );
}

/** A whole page that is only an error (a result or an album that has gone, a job that failed): named in the tab too. */
export function ErrorPage({ title, code, message, children }: { title: string; code: string; message: string; children?: ReactNode }) {
  return (
    <>
      <PageTitle title={title} />
      <ErrorPanel code={code} message={message}>
        {children}
      </ErrorPanel>
    </>
  );
}
