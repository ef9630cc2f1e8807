// Hash routes, so links work with the keyboard, the back button and a reload:
//   #/jobs            the jobs table          #/jobs/42          ... with job 42's panel open
//   #/schedules       cron jobs               #/schedules/new    #/schedules/3/edit
//   #/sessions        active sessions
//   #/storage         pools, datasets, snapshots, replication
//   #/system          host facts and charts  #/shell            a web shell
//   #/alerts          current alerts          #/alertservices    #/webhooks
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  page: 'jobs' | 'schedules' | 'sessions' | 'alerts' | 'alertservices' | 'webhooks' | 'storage' | 'system' | 'shell';
  id: number | null;
  action: 'new' | 'edit' | null;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '');
  const pages: readonly Route['page'][] = ['schedules', 'sessions', 'alerts', 'alertservices', 'webhooks', 'storage', 'system', 'shell'];
  const page = pages.find((p) => p === parts[0]) ?? 'jobs';
  const id = parts[1] !== undefined && /^\d+$/.test(parts[1]) ? Number(parts[1]) : null;
  const action = parts[1] === 'new' ? 'new' : parts[2] === 'edit' && id !== null ? 'edit' : null;
  return { page, id, action };
}

export function navigate(path: string): void {
  if (location.hash !== `#${path}`) location.hash = path;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
