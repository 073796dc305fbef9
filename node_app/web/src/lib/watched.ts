import { useEffect, useState } from 'react';
import type { ApiError } from '../api';

/** `watchJob` or `watchBatch`: follows one id, calls back with each view or once with the error that it has gone. */
type Watch<T> = (id: string, onUpdate: (value: T) => void, onGone: (error: ApiError) => void) => () => void;

/** The latest view of a job or an album, or why it has gone; a new id starts from nothing. */
export function useWatched<T>(id: string, watch: Watch<T>): { value: T | null; gone: ApiError | null; setValue: (value: T) => void } {
  const [value, setValue] = useState<T | null>(null);
  const [gone, setGone] = useState<ApiError | null>(null);
  useEffect(() => {
    setValue(null);
    setGone(null);
    return watch(id, setValue, setGone);
  }, [id, watch]);
  return { value, gone, setValue };
}
