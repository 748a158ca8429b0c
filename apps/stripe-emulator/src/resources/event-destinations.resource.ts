import { Route } from '../context';
export function eventDestinationsRoutes(): Route[] {
  return [];
}
