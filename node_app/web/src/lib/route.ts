import { PAGE_PATHS } from '../../../contract';

/** The app's few pages; the path is the state, so a reload or a shared link lands on the same page. */
export type Route = { page: 'home' } | { page: 'job'; id: string } | { page: 'batch'; id: string } | { page: 'about' } | { page: 'faq' } | { page: 'notFound' };

export function parseRoute(pathname: string): Route {
  const job = /^\/r\/([A-Za-z0-9_-]+)\/?$/.exec(pathname);
  if (job) return { page: 'job', id: job[1] };
  const batch = /^\/a\/([A-Za-z0-9_-]+)\/?$/.exec(pathname);
  if (batch) return { page: 'batch', id: batch[1] };
  if (pathname === '/about') return { page: 'about' };
  if (pathname === '/faq') return { page: 'faq' };
  if (pathname === '/' || pathname === '/index.html') return { page: 'home' };
  return { page: 'notFound' };
}

export function pathOf(route: Route): string {
  switch (route.page) {
    case 'job':
      return PAGE_PATHS.job(route.id);
    case 'batch':
      return PAGE_PATHS.batch(route.id);
    case 'about':
      return PAGE_PATHS.about;
    case 'faq':
      return PAGE_PATHS.faq;
    default:
      return PAGE_PATHS.home;
  }
}
