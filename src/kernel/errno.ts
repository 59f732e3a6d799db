/** Linux errno values (asm-generic/errno-base.h, errno.h): the same numbers on i386 and amd64. */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16,
  EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21, ENODEV: 19, EINVAL: 22, EMFILE: 24, ENOTTY: 25, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EPIPE: 32, ERANGE: 34,
  ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, ETIMEDOUT: 110,
} as const;

/** Thrown by a system-call handler to answer -errno. */
export class ErrnoError extends Error {
  override name = 'ErrnoError';
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}
