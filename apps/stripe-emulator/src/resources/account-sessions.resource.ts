import { Route } from '../context';
export function accountSessionsRoutes(): Route[] {
  return [];
}
