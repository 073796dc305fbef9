import type { MouseEvent, ReactNode } from 'react';
import { pathOf, type Route } from '../lib/route';

export type Navigate = (route: Route) => void;

/** A real link (it opens in a new tab, it can be copied) that moves within the app without a reload. */
export function Link({ to, navigate, children, className }: { to: Route; navigate: Navigate; children: ReactNode; className?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={pathOf(to)} onClick={onClick} className={className}>
      {children}
    </a>
  );
}
