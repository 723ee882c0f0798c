package io.flowstack.nativeio;

/**
 * A failed libc call or system call, carrying the call, the object it acted on and the errno.
 *
 * <p>The message reads {@code CALL OBJECT: NAME (description): hint}, for example
 * {@code TUNSETIFF flowtap0: EPERM (Operation not permitted): needs root or CAP_NET_ADMIN}. The
 * object part is left out when there is none, and the hint part when no advice is known.
 *
 * <p>Hot paths ({@link Libc#read}, {@link Libc#write}, ...) never throw this; they return
 * {@code -errno}. Only setup and control calls do.
 *
 * <p>Owned by: nobody (immutable, thread safe).
 */
public final class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The device path of the TUN/TAP clone device. */
    public static final String TUN_DEVICE = "/dev/net/tun";

    /** The call or ioctl name. */
    private final String call;
    /** What the call acted on, or null. */
    private final String object;
    /** The positive errno value. */
    private final int errno;

    /**
     * An exception whose message is {@link #format}{@code (call, object, errno)}.
     *
     * @param call   the call or ioctl name, e.g. {@code TUNSETIFF} or {@code open}
     * @param object what it acted on (device name, path), or {@code null}
     * @param errno  the positive errno value
     */
    public NativeException(String call, String object, int errno) {
        super(format(call, object, errno));
        this.call = call;
        this.object = object;
        this.errno = errno;
    }

    /**
     * The call or ioctl name, e.g. {@code TUNSETIFF}.
     *
     * @return the name
     */
    public String call() {
        return call;
    }

    /**
     * The object acted on (device name, path), or {@code null}.
     *
     * @return the object, or null
     */
    public String object() {
        return object;
    }

    /**
     * The positive errno value.
     *
     * @return the errno, e.g. {@link Errno#EPERM}
     */
    public int errno() {
        return errno;
    }

    /**
     * The symbolic errno name, e.g. {@code EPERM}, or {@code errno 123} if unknown.
     *
     * @return the name
     */
    public String errnoName() {
        return Errno.name(errno);
    }

    /**
     * Builds the message text used by this exception.
     *
     * @param call the call or ioctl name
     * @param object what it acted on, or null (or empty) for nothing
     * @param errno the positive errno value
     * @return {@code CALL OBJECT: NAME (description): hint}, without the parts that are absent
     */
    public static String format(String call, String object, int errno) {
        StringBuilder sb = new StringBuilder(96);
        sb.append(call);
        if (object != null && !object.isEmpty()) {
            sb.append(' ').append(object);
        }
        sb.append(": ").append(Errno.describe(errno));
        String hint = hint(call, object, errno);
        if (hint != null) {
            sb.append(": ").append(hint);
        }
        return sb.toString();
    }

    /**
     * Advice for a known failure of {@code call} on {@code object}, or {@code null} when none
     * applies.
     *
     * @param call the call or ioctl name
     * @param object what it acted on, or null (or empty) for nothing
     * @param errno the positive errno value
     * @return one line of advice, e.g. {@code needs root or CAP_NET_ADMIN}, or null
     */
    public static String hint(String call, String object, int errno) {
        boolean tunSetIff = "TUNSETIFF".equals(call);
        switch (errno) {
            case Errno.EPERM, Errno.EACCES:
                // packet(7): AF_PACKET sockets need CAP_NET_RAW; TAP and interface changes CAP_NET_ADMIN
                if (call.startsWith("bpf(")) {
                    return "needs root, or CAP_BPF and CAP_NET_ADMIN"; // XDP programs and maps
                }
                return "AF_PACKET".equals(object) || "AF_XDP".equals(object) || call.startsWith("PACKET_")
                        ? "needs root or CAP_NET_RAW" : "needs root or CAP_NET_ADMIN";
            case Errno.ENOENT:
                return TUN_DEVICE.equals(object) ? "the kernel has no TUN support (modprobe tun)" : null;
            case Errno.EBUSY:
                return tunSetIff
                        ? "the device is in use by another process (single-queue TAPs accept one attach)"
                        : null;
            case Errno.ENODEV:
                return "no such device";
            case Errno.EINVAL:
                return tunSetIff
                        ? "a device of that name exists with other flags (TAP vs TUN, multi-queue)"
                        : null;
            case Errno.E2BIG:
                return tunSetIff ? "too many queues (a multi-queue TAP has at most 256)" : null;
            case Errno.EMFILE:
                return "too many open files, raise ulimit -n";
            case Errno.ENFILE:
                return "the system-wide open file limit is reached (fs.file-max)";
            default:
                return null;
        }
    }
}
