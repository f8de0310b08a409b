// The few React hooks src/react.ts calls, declared for the compiler only: React is a peer
// dependency, never installed in this folder (an app that installs @presign/client keeps its one
// React), and these signatures are React's own from 16.8 on.
declare module "react" {
  export function useState<S>(initial: S | (() => S)): [S, (next: S | ((previous: S) => S)) => void];
  export function useRef<T>(initial: T): { current: T };
  export function useCallback<F extends (...args: never[]) => unknown>(callback: F, deps: readonly unknown[]): F;
  export function useEffect(effect: () => void | (() => void), deps?: readonly unknown[]): void;
}
