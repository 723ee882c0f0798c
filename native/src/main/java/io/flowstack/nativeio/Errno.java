package io.flowstack.nativeio;

/**
 * Linux errno numbers (x86_64/generic values) with their symbolic names and the texts glibc's
 * {@code strerror} prints, so that error messages depend neither on a native call nor on the
 * locale.
 *
 * <p>Owned by: nobody (immutable, thread safe).
 */
public final class Errno {
    /** Operation not permitted. */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** No such process. */
    public static final int ESRCH = 3;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** Input/output error. */
    public static final int EIO = 5;
    /** No such device or address. */
    public static final int ENXIO = 6;
    /** Argument list too long. */
    public static final int E2BIG = 7;
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** No child processes. */
    public static final int ECHILD = 10;
    /** Resource temporarily unavailable. */
    public static final int EAGAIN = 11;
    /** Cannot allocate memory. */
    public static final int ENOMEM = 12;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** Bad address. */
    public static final int EFAULT = 14;
    /** Device or resource busy. */
    public static final int EBUSY = 16;
    /** File exists. */
    public static final int EEXIST = 17;
    /** No such device. */
    public static final int ENODEV = 19;
    /** Not a directory. */
    public static final int ENOTDIR = 20;
    /** Is a directory. */
    public static final int EISDIR = 21;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** Too many open files in system. */
    public static final int ENFILE = 23;
    /** Too many open files. */
    public static final int EMFILE = 24;
    /** Inappropriate ioctl for device. */
    public static final int ENOTTY = 25;
    /** File too large. */
    public static final int EFBIG = 27;
    /** No space left on device. */
    public static final int ENOSPC = 28;
    /** Illegal seek. */
    public static final int ESPIPE = 29;
    /** Read-only file system. */
    public static final int EROFS = 30;
    /** Broken pipe. */
    public static final int EPIPE = 32;
    /** Numerical result out of range. */
    public static final int ERANGE = 34;
    /** File name too long. */
    public static final int ENAMETOOLONG = 36;
    /** Function not implemented. */
    public static final int ENOSYS = 38;
    /** No data available. */
    public static final int ENODATA = 61;
    /** Protocol error. */
    public static final int EPROTO = 71;
    /** Value too large for defined data type. */
    public static final int EOVERFLOW = 75;
    /** Socket operation on non-socket. */
    public static final int ENOTSOCK = 88;
    /** Destination address required. */
    public static final int EDESTADDRREQ = 89;
    /** Message too long. */
    public static final int EMSGSIZE = 90;
    /** Protocol wrong type for socket. */
    public static final int EPROTOTYPE = 91;
    /** Protocol not available. */
    public static final int ENOPROTOOPT = 92;
    /** Protocol not supported. */
    public static final int EPROTONOSUPPORT = 93;
    /** Socket type not supported. */
    public static final int ESOCKTNOSUPPORT = 94;
    /** Operation not supported. */
    public static final int EOPNOTSUPP = 95;
    /** Address family not supported by protocol. */
    public static final int EAFNOSUPPORT = 97;
    /** Address already in use. */
    public static final int EADDRINUSE = 98;
    /** Cannot assign requested address. */
    public static final int EADDRNOTAVAIL = 99;
    /** Network is down. */
    public static final int ENETDOWN = 100;
    /** Network is unreachable. */
    public static final int ENETUNREACH = 101;
    /** Software caused connection abort. */
    public static final int ECONNABORTED = 103;
    /** Connection reset by peer. */
    public static final int ECONNRESET = 104;
    /** No buffer space available. */
    public static final int ENOBUFS = 105;
    /** Transport endpoint is already connected. */
    public static final int EISCONN = 106;
    /** Transport endpoint is not connected. */
    public static final int ENOTCONN = 107;
    /** Connection timed out. */
    public static final int ETIMEDOUT = 110;
    /** Connection refused. */
    public static final int ECONNREFUSED = 111;
    /** No route to host. */
    public static final int EHOSTUNREACH = 113;
    /** Operation already in progress. */
    public static final int EALREADY = 114;
    /** Operation now in progress. */
    public static final int EINPROGRESS = 115;
    /** Operation canceled. */
    public static final int ECANCELED = 125;
    /** Same value as {@link #EAGAIN} on Linux. */
    public static final int EWOULDBLOCK = EAGAIN;

    private static final int MAX = 134;
    private static final String[] NAMES = new String[MAX];
    private static final String[] TEXTS = new String[MAX];

    static {
        def(EPERM, "EPERM", "Operation not permitted");
        def(ENOENT, "ENOENT", "No such file or directory");
        def(ESRCH, "ESRCH", "No such process");
        def(EINTR, "EINTR", "Interrupted system call");
        def(EIO, "EIO", "Input/output error");
        def(ENXIO, "ENXIO", "No such device or address");
        def(E2BIG, "E2BIG", "Argument list too long");
        def(EBADF, "EBADF", "Bad file descriptor");
        def(ECHILD, "ECHILD", "No child processes");
        def(EAGAIN, "EAGAIN", "Resource temporarily unavailable");
        def(ENOMEM, "ENOMEM", "Cannot allocate memory");
        def(EACCES, "EACCES", "Permission denied");
        def(EFAULT, "EFAULT", "Bad address");
        def(EBUSY, "EBUSY", "Device or resource busy");
        def(EEXIST, "EEXIST", "File exists");
        def(ENODEV, "ENODEV", "No such device");
        def(ENOTDIR, "ENOTDIR", "Not a directory");
        def(EISDIR, "EISDIR", "Is a directory");
        def(EINVAL, "EINVAL", "Invalid argument");
        def(ENFILE, "ENFILE", "Too many open files in system");
        def(EMFILE, "EMFILE", "Too many open files");
        def(ENOTTY, "ENOTTY", "Inappropriate ioctl for device");
        def(EFBIG, "EFBIG", "File too large");
        def(ENOSPC, "ENOSPC", "No space left on device");
        def(ESPIPE, "ESPIPE", "Illegal seek");
        def(EROFS, "EROFS", "Read-only file system");
        def(EPIPE, "EPIPE", "Broken pipe");
        def(ERANGE, "ERANGE", "Numerical result out of range");
        def(ENAMETOOLONG, "ENAMETOOLONG", "File name too long");
        def(ENOSYS, "ENOSYS", "Function not implemented");
        def(ENODATA, "ENODATA", "No data available");
        def(EPROTO, "EPROTO", "Protocol error");
        def(EOVERFLOW, "EOVERFLOW", "Value too large for defined data type");
        def(ENOTSOCK, "ENOTSOCK", "Socket operation on non-socket");
        def(EDESTADDRREQ, "EDESTADDRREQ", "Destination address required");
        def(EMSGSIZE, "EMSGSIZE", "Message too long");
        def(EPROTOTYPE, "EPROTOTYPE", "Protocol wrong type for socket");
        def(ENOPROTOOPT, "ENOPROTOOPT", "Protocol not available");
        def(EPROTONOSUPPORT, "EPROTONOSUPPORT", "Protocol not supported");
        def(ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", "Socket type not supported");
        def(EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported");
        def(EAFNOSUPPORT, "EAFNOSUPPORT", "Address family not supported by protocol");
        def(EADDRINUSE, "EADDRINUSE", "Address already in use");
        def(EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address");
        def(ENETDOWN, "ENETDOWN", "Network is down");
        def(ENETUNREACH, "ENETUNREACH", "Network is unreachable");
        def(ECONNABORTED, "ECONNABORTED", "Software caused connection abort");
        def(ECONNRESET, "ECONNRESET", "Connection reset by peer");
        def(ENOBUFS, "ENOBUFS", "No buffer space available");
        def(EISCONN, "EISCONN", "Transport endpoint is already connected");
        def(ENOTCONN, "ENOTCONN", "Transport endpoint is not connected");
        def(ETIMEDOUT, "ETIMEDOUT", "Connection timed out");
        def(ECONNREFUSED, "ECONNREFUSED", "Connection refused");
        def(EHOSTUNREACH, "EHOSTUNREACH", "No route to host");
        def(EALREADY, "EALREADY", "Operation already in progress");
        def(EINPROGRESS, "EINPROGRESS", "Operation now in progress");
        def(ECANCELED, "ECANCELED", "Operation canceled");
    }

    private Errno() {
    }

    private static void def(int errno, String name, String text) {
        NAMES[errno] = name;
        TEXTS[errno] = text;
    }

    /**
     * Whether {@code errno} is a number this table knows by name.
     *
     * @param errno a positive errno value, as {@code -r} of a failed hot-path call returns it
     * @return true if {@link #name} and {@link #description} know it
     */
    public static boolean isKnown(int errno) {
        return errno > 0 && errno < MAX && NAMES[errno] != null;
    }

    /**
     * Symbolic name, e.g. {@code EPERM}; an unknown number renders as {@code errno 123}.
     *
     * @param errno a positive errno value, as {@code -r} of a failed hot-path call returns it
     * @return the symbolic name
     */
    public static String name(int errno) {
        return isKnown(errno) ? NAMES[errno] : "errno " + errno;
    }

    /**
     * The strerror-like description, e.g. {@code Operation not permitted}, or {@code null} for a
     * number this table does not know.
     *
     * @param errno a positive errno value, as {@code -r} of a failed hot-path call returns it
     * @return the text, or null
     */
    public static String description(int errno) {
        return isKnown(errno) ? TEXTS[errno] : null;
    }

    /**
     * Name and description, e.g. {@code EPERM (Operation not permitted)}; an unknown number
     * renders as {@code errno 123}.
     *
     * @param errno a positive errno value, as {@code -r} of a failed hot-path call returns it
     * @return the name and text
     */
    public static String describe(int errno) {
        return isKnown(errno) ? NAMES[errno] + " (" + TEXTS[errno] + ")" : "errno " + errno;
    }
}
