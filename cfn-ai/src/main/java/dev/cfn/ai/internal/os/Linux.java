package dev.cfn.ai.internal.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Linux system calls cfn's tools and process agents need and the JDK does not offer, made
 * through the FFM API's downcall to libc's {@code syscall(2)}: {@code openat2} (open beneath a
 * directory in the kernel), {@code statx}, {@code getdents64}, {@code pread}/{@code pwrite}, {@code
 * prctl}, {@code kill} of a process group and {@code wait4}.
 *
 * <p>Only Linux on x86_64 and aarch64 is supported (the system call numbers and flag values below
 * are those of these two architectures). Elsewhere {@link #available()} is false and every call
 * throws {@link UnsupportedOperationException}; callers fail closed (file tools refuse) or skip a
 * hardening step and say so (process agents), as their Javadoc states.
 *
 * <p>Not API: this package is internal to cfn-ai and may change at any time. Every call is
 * thread-safe (no shared state but the immutable method handles); errors are {@link
 * ErrnoException}s that carry the {@code errno}.
 */
public final class Linux {
  // open(2) flags common to x86_64 and aarch64
  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 1;
  public static final int O_RDWR = 2;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;
  public static final int O_NOCTTY = 0400;
  public static final int O_APPEND = 02000;
  public static final int O_NONBLOCK = 04000;
  public static final int O_CLOEXEC = 02000000;
  public static final int O_PATH = 010000000;

  /** O_DIRECTORY differs between the two architectures. */
  public static final int O_DIRECTORY;

  /** O_NOFOLLOW differs between the two architectures. */
  public static final int O_NOFOLLOW;

  /** {@code open_how.resolve}: no crossing of mount points. */
  public static final long RESOLVE_NO_XDEV = 0x01;

  /** {@code open_how.resolve}: no /proc magic links. */
  public static final long RESOLVE_NO_MAGICLINKS = 0x02;

  /** {@code open_how.resolve}: no symbolic link anywhere on the path. */
  public static final long RESOLVE_NO_SYMLINKS = 0x04;

  /** {@code open_how.resolve}: the path may not leave the directory it is resolved from. */
  public static final long RESOLVE_BENEATH = 0x08;

  public static final int AT_FDCWD = -100;
  public static final int AT_SYMLINK_NOFOLLOW = 0x100;
  public static final int AT_EMPTY_PATH = 0x1000;
  public static final int RENAME_EXCHANGE = 2;

  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EAGAIN = 11;
  public static final int EACCES = 13;
  public static final int EEXIST = 17;
  public static final int EXDEV = 18;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int ECHILD = 10;
  public static final int ENOSYS = 38;
  public static final int ELOOP = 40;
  public static final int ENAMETOOLONG = 36;

  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;

  public static final int S_IFMT = 0170000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFLNK = 0120000;

  private static final int PR_GET_DUMPABLE = 3;
  private static final int PR_SET_DUMPABLE = 4;
  private static final int PR_SET_CHILD_SUBREAPER = 36;
  private static final int PR_GET_CHILD_SUBREAPER = 37;
  private static final int WNOHANG = 1;
  private static final int WEXITED = 4;
  private static final int WNOWAIT = 0x01000000;
  private static final int P_ALL = 0;
  private static final int SIGINFO_BYTES = 128;
  private static final long SIGINFO_PID_OFFSET = 16;
  private static final int STATX_BASIC_STATS = 0x7ff;
  private static final int STATX_SIZE_BYTES = 256;

  /** System call numbers: {x86_64, aarch64}. */
  private enum Call {
    CLOSE(3, 57),
    PREAD64(17, 67),
    PWRITE64(18, 68),
    KILL(62, 129),
    WAIT4(61, 260),
    WAITID(247, 95),
    FTRUNCATE(77, 46),
    PRCTL(157, 167),
    GETDENTS64(217, 61),
    MKDIRAT(258, 34),
    RENAMEAT2(316, 276),
    STATX(332, 291),
    OPENAT2(437, 437);

    final long x86;
    final long arm;

    Call(long x86, long arm) {
      this.x86 = x86;
      this.arm = arm;
    }
  }

  private static final String UNSUPPORTED; // null when supported
  private static final boolean ARM;
  private static final MethodHandle[] SYSCALL = new MethodHandle[7]; // by argument count
  private static final StructLayout CAPTURE;
  private static final VarHandle ERRNO;

  static {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    boolean x86 = arch.equals("amd64") || arch.equals("x86_64");
    ARM = arch.equals("aarch64") || arch.equals("arm64");
    String why = null;
    if (!os.startsWith("linux")) {
      why = "this needs Linux; the operating system is " + System.getProperty("os.name");
    } else if (!x86 && !ARM) {
      why = "this needs Linux on x86_64 or aarch64; the architecture is " + arch;
    }
    O_DIRECTORY = ARM ? 040000 : 0200000;
    O_NOFOLLOW = ARM ? 0100000 : 0400000;
    StructLayout capture = null;
    VarHandle errno = null;
    if (why == null) {
      try {
        Linker linker = Linker.nativeLinker();
        capture = Linker.Option.captureStateLayout();
        errno = capture.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
        MemorySegment syscall =
            linker
                .defaultLookup()
                .find("syscall")
                .orElseThrow(() -> new IllegalStateException("libc has no syscall()"));
        Linker.Option errnoOption = Linker.Option.captureCallState("errno");
        for (int n = 0; n < SYSCALL.length; n++) {
          ValueLayout[] args = new ValueLayout[n + 1];
          java.util.Arrays.fill(args, ValueLayout.JAVA_LONG);
          SYSCALL[n] =
              linker.downcallHandle(
                  syscall,
                  FunctionDescriptor.of(ValueLayout.JAVA_LONG, args),
                  Linker.Option.firstVariadicArg(1),
                  errnoOption);
        }
      } catch (RuntimeException | LinkageError e) {
        why = "the native linker is not usable: " + e;
      }
    }
    UNSUPPORTED = why;
    CAPTURE = capture;
    ERRNO = errno;
  }

  private Linux() {}

  /** True when these calls work here: Linux on x86_64 or aarch64 with a usable native linker. */
  public static boolean available() {
    return UNSUPPORTED == null;
  }

  /** Why {@link #available()} is false, or null when it is true. */
  public static String unavailableReason() {
    return UNSUPPORTED;
  }

  /** A failed system call: its name and {@code errno}. */
  public static final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    ErrnoException(String call, int errno) {
      super(call + " failed with errno " + errno);
      this.errno = errno;
    }

    /** The {@code errno} value. */
    public int errno() {
      return errno;
    }
  }

  /**
   * The basic attributes of a file.
   *
   * @param mode type and permission bits ({@code st_mode})
   * @param links the number of hard links
   * @param size the size in bytes
   * @param inode the inode number
   */
  public record Stat(int mode, long links, long size, long inode) {
    /** True for a regular file. */
    public boolean isRegularFile() {
      return (mode & S_IFMT) == S_IFREG;
    }

    /** True for a directory. */
    public boolean isDirectory() {
      return (mode & S_IFMT) == S_IFDIR;
    }

    /** True for a symbolic link. */
    public boolean isSymbolicLink() {
      return (mode & S_IFMT) == S_IFLNK;
    }
  }

  /** A directory entry: its name (decoded as UTF-8) and its raw name bytes. */
  public record DirEntry(String name, byte[] rawName) {}

  private static long call(Arena arena, String name, Call call, long... args)
      throws ErrnoException {
    if (UNSUPPORTED != null) {
      throw new UnsupportedOperationException(UNSUPPORTED);
    }
    MemorySegment state = arena.allocate(CAPTURE);
    Object[] all = new Object[args.length + 2];
    all[0] = state;
    all[1] = ARM ? call.arm : call.x86;
    for (int i = 0; i < args.length; i++) {
      all[i + 2] = args[i];
    }
    long result;
    try {
      result = (long) SYSCALL[args.length].invokeWithArguments(all);
    } catch (Throwable t) {
      throw new IllegalStateException("native call " + name + " failed to run: " + t, t);
    }
    if (result == -1) {
      throw new ErrnoException(name, (int) ERRNO.get(state, 0L));
    }
    return result;
  }

  /** Repeats a call interrupted by a signal. */
  private static long retrying(Arena arena, String name, Call call, long... args)
      throws ErrnoException {
    while (true) {
      try {
        return call(arena, name, call, args);
      } catch (ErrnoException e) {
        if (e.errno() != EINTR) {
          throw e;
        }
      }
    }
  }

  private static MemorySegment cString(Arena arena, byte[] bytes) {
    MemorySegment s = arena.allocate(bytes.length + 1L);
    MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
    s.set(ValueLayout.JAVA_BYTE, bytes.length, (byte) 0);
    return s;
  }

  private static byte[] bytes(String path) {
    if (path.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a path may not contain NUL");
    }
    return path.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * {@code openat2(dirfd, path, {flags, mode, resolve})}: opens {@code path} relative to {@code
   * dirfd} with the kernel enforcing {@code resolve} on every component. Retries on {@code EINTR}
   * and, up to 64 times, on {@code EAGAIN} (a concurrent rename seen during a {@code
   * RESOLVE_BENEATH} walk). Needs Linux 5.6; older kernels fail with {@code ENOSYS}.
   */
  public static int openat2(int dirfd, String path, int flags, int mode, long resolve)
      throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment how = arena.allocate(24, 8);
      how.set(ValueLayout.JAVA_LONG, 0, flags & 0xffffffffL);
      how.set(ValueLayout.JAVA_LONG, 8, mode);
      how.set(ValueLayout.JAVA_LONG, 16, resolve);
      MemorySegment p = cString(arena, bytes(path));
      for (int attempt = 0; ; attempt++) {
        try {
          return (int)
              retrying(arena, "openat2", Call.OPENAT2, dirfd, p.address(), how.address(), 24);
        } catch (ErrnoException e) {
          if (e.errno() != EAGAIN || attempt >= 64) {
            throw e;
          }
        }
      }
    }
  }

  /** {@code close(fd)}; errors are ignored (the descriptor is released either way on Linux). */
  public static void close(int fd) {
    if (fd < 0) {
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      call(arena, "close", Call.CLOSE, fd);
    } catch (ErrnoException e) {
      // Linux releases the descriptor even when close reports an error
    }
  }

  /** {@code statx(fd, "", AT_EMPTY_PATH)}: the attributes of the open file {@code fd}. */
  public static Stat fstat(int fd) throws ErrnoException {
    return statx(fd, "", AT_EMPTY_PATH);
  }

  /** {@code statx(dirfd, name, flags)}; pass {@link #AT_SYMLINK_NOFOLLOW} to see links. */
  public static Stat statx(int dirfd, String name, int flags) throws ErrnoException {
    return statx(dirfd, bytes(name), flags);
  }

  /** As {@link #statx(int, String, int)}, for a raw name as read from a directory. */
  public static Stat statx(int dirfd, byte[] name, int flags) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(STATX_SIZE_BYTES, 8);
      retrying(
          arena,
          "statx",
          Call.STATX,
          dirfd,
          cString(arena, name).address(),
          flags,
          STATX_BASIC_STATS,
          buf.address());
      int links = buf.get(ValueLayout.JAVA_INT, 16);
      int mode = Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, 28));
      long inode = buf.get(ValueLayout.JAVA_LONG, 32);
      long size = buf.get(ValueLayout.JAVA_LONG, 40);
      return new Stat(mode, Integer.toUnsignedLong(links), size, inode);
    }
  }

  /**
   * {@code pread(fd, buf, len, offset)} into {@code dst[off, off+len)}: the bytes read, 0 at the
   * end of the file.
   */
  public static int pread(int fd, byte[] dst, int off, int len, long position)
      throws ErrnoException {
    if (len == 0) {
      return 0;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(len);
      int n = (int) retrying(arena, "pread", Call.PREAD64, fd, buf.address(), len, position);
      MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, dst, off, n);
      return n;
    }
  }

  /** {@code pwrite} until all of {@code src[off, off+len)} is written at {@code position}. */
  public static void pwriteFully(int fd, byte[] src, int off, int len, long position)
      throws ErrnoException {
    if (len == 0) {
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(len);
      MemorySegment.copy(src, off, buf, ValueLayout.JAVA_BYTE, 0, len);
      long done = 0;
      while (done < len) {
        done +=
            retrying(
                arena,
                "pwrite",
                Call.PWRITE64,
                fd,
                buf.address() + done,
                len - done,
                position + done);
      }
    }
  }

  /** {@code ftruncate(fd, length)}. */
  public static void ftruncate(int fd, long length) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      retrying(arena, "ftruncate", Call.FTRUNCATE, fd, length);
    }
  }

  /** {@code mkdirat(dirfd, name, mode)}: {@code name} should be a single component. */
  public static void mkdirat(int dirfd, String name, int mode) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      call(arena, "mkdirat", Call.MKDIRAT, dirfd, cString(arena, bytes(name)).address(), mode);
    }
  }

  /**
   * The entries of the directory open as {@code fd} ({@code getdents64}), without {@code .} and
   * {@code ..}, read from the descriptor's current position to the end.
   */
  public static List<DirEntry> readDirectory(int fd) throws ErrnoException {
    List<DirEntry> entries = new ArrayList<>();
    try (Arena arena = Arena.ofConfined()) {
      int size = 32 * 1024;
      MemorySegment buf = arena.allocate(size, 8);
      while (true) {
        long n = retrying(arena, "getdents64", Call.GETDENTS64, fd, buf.address(), size);
        if (n == 0) {
          return entries;
        }
        long pos = 0;
        while (pos < n) {
          int reclen = Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, pos + 16));
          long nameStart = pos + 19;
          long nameEnd = nameStart;
          while (nameEnd < pos + reclen && buf.get(ValueLayout.JAVA_BYTE, nameEnd) != 0) {
            nameEnd++;
          }
          byte[] raw = buf.asSlice(nameStart, nameEnd - nameStart).toArray(ValueLayout.JAVA_BYTE);
          String name = new String(raw, StandardCharsets.UTF_8);
          if (!name.equals(".") && !name.equals("..")) {
            entries.add(new DirEntry(name, raw));
          }
          pos += reclen;
        }
      }
    }
  }

  /** {@code renameat2(olddirfd, old, newdirfd, new, flags)}, such as {@link #RENAME_EXCHANGE}. */
  public static void renameat2(int oldDir, String oldPath, int newDir, String newPath, int flags)
      throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      call(
          arena,
          "renameat2",
          Call.RENAMEAT2,
          oldDir,
          cString(arena, bytes(oldPath)).address(),
          newDir,
          cString(arena, bytes(newPath)).address(),
          flags);
    }
  }

  /** {@code prctl(PR_SET_DUMPABLE, 0)}: see {@code ChildProcesses} in cfn-ai for why. */
  public static void setNotDumpable() throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      call(arena, "prctl(PR_SET_DUMPABLE)", Call.PRCTL, PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
  }

  /** {@code prctl(PR_GET_DUMPABLE)}: 0 when this process is not dumpable. */
  public static int dumpable() throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      return (int) call(arena, "prctl(PR_GET_DUMPABLE)", Call.PRCTL, PR_GET_DUMPABLE, 0, 0, 0, 0);
    }
  }

  /** {@code prctl(PR_SET_CHILD_SUBREAPER, 1)}: orphaned descendants re-parent to this process. */
  public static void setChildSubreaper() throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      call(arena, "prctl(PR_SET_CHILD_SUBREAPER)", Call.PRCTL, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
  }

  /** {@code prctl(PR_GET_CHILD_SUBREAPER)}: true when this process is a child subreaper. */
  public static boolean childSubreaper() throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
      call(
          arena,
          "prctl(PR_GET_CHILD_SUBREAPER)",
          Call.PRCTL,
          PR_GET_CHILD_SUBREAPER,
          out.address(),
          0,
          0,
          0);
      return out.get(ValueLayout.JAVA_INT, 0) != 0;
    }
  }

  /** {@code kill(pid, signal)}; a negative {@code pid} signals the process group {@code -pid}. */
  public static void kill(long pid, int signal) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      call(arena, "kill", Call.KILL, pid, signal);
    }
  }

  /**
   * {@code wait4(pid, &status, WNOHANG, NULL)}: reaps the exited child {@code pid}. Returns true
   * when it was reaped, false when it still runs; throws with {@link #ECHILD} when {@code pid} is
   * not a child of this process (or was reaped already).
   */
  public static boolean reap(long pid) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
      return retrying(arena, "wait4", Call.WAIT4, pid, status.address(), WNOHANG, 0) == pid;
    }
  }

  /**
   * {@code waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)}: the pid of a child of this
   * process that has exited and waits to be reaped, without reaping it; 0 when every child still
   * runs, -1 when this process has no children at all. Which exited child it names, when there are
   * several, is up to the kernel.
   */
  public static long peekExitedChild() throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(SIGINFO_BYTES); // zeroed: si_pid stays 0 if none exited
      try {
        retrying(
            arena, "waitid", Call.WAITID, P_ALL, 0, info.address(), WEXITED | WNOHANG | WNOWAIT, 0);
      } catch (ErrnoException e) {
        if (e.errno() == ECHILD) {
          return -1;
        }
        throw e;
      }
      return info.get(ValueLayout.JAVA_INT, SIGINFO_PID_OFFSET);
    }
  }
}
