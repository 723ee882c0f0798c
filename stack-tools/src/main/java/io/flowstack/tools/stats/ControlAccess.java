package io.flowstack.tools.stats;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Who may use a control socket (issue 13 point 6). The socket file is mode 0600, owned by the
 * user running the stack; with a control group, 0660 and that group. It never exists at the
 * umask's mode: it is bound in a private directory (0700), given its mode and group, then
 * renamed into place. Each client's credentials ({@code SO_PEERCRED}) are checked as well: root,
 * the stack's own user, or (with a control group) a member of that group as its primary group;
 * anybody else is refused before the request is read.
 *
 * <p>Immutable; any thread.
 */
public final class ControlAccess {
    private final String owner;
    private final String group;
    /**
     * The owner's uid and the group's gid as numbers: a peer's name lookup needs descriptors
     * (NSS reads /etc/passwd), and without one (EMFILE) the JDK names the peer by its number.
     */
    private final String ownerUid;
    private final String groupGid;

    private ControlAccess(String owner, String group) {
        this.owner = owner;
        this.group = group;
        this.ownerUid = idOf(Path.of("/proc/self"), "unix:uid");
        this.groupGid = group == null ? null : gidOf(group);
    }

    private static String idOf(Path p, String attribute) {
        try {
            return String.valueOf(Files.getAttribute(p, attribute));
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** The gid of {@code group} from /etc/group, or null if it is not listed there. */
    private static String gidOf(String group) {
        try (java.util.stream.Stream<String> lines = Files.lines(Path.of("/etc/group"))) {
            return lines.map(l -> l.split(":", -1)).filter(f -> f.length > 2 && f[0].equals(group))
                    .map(f -> f[2]).findFirst().orElse(null);
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    /** {@return access for the stack's own user (and root) only: mode 0600} */
    public static ControlAccess ownerOnly() {
        return new ControlAccess(System.getProperty("user.name"), null);
    }

    /**
     * Access for the stack's user, root and the members of {@code group}: mode 0660.
     *
     * @param group a group name of this system, or null for {@link #ownerOnly}
     * @return the access
     */
    public static ControlAccess withGroup(String group) {
        return new ControlAccess(System.getProperty("user.name"), group);
    }

    /** {@return the control group, or null} */
    public String group() {
        return group;
    }

    /**
     * Whether a peer running as {@code user} with primary group {@code peerGroup} may ask.
     *
     * @param user the peer's user name (or uid, when the name could not be looked up)
     * @param peerGroup the peer's primary group name (or gid)
     * @return true for root, this process's user, or a member of the control group
     */
    public boolean permits(String user, String peerGroup) {
        return "root".equals(user) || "0".equals(user) || owner.equals(user) || user.equals(ownerUid)
                || (group != null && (group.equals(peerGroup) || peerGroup.equals(groupGid)));
    }

    /**
     * The refusal to send a connected client, or null if its credentials are permitted.
     *
     * @param c the accepted client
     * @return null, or an {@code error: ...} line
     */
    String refusal(SocketChannel c) {
        try {
            jdk.net.UnixDomainPrincipal p = c.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
            if (permits(p.user().getName(), p.group().getName())) {
                return null;
            }
            return "error: refused: user " + p.user().getName() + " is neither root nor " + owner
                    + (group != null ? " nor in group " + group : "") + "\n";
        } catch (IOException | UnsupportedOperationException e) {
            return "error: refused: the client's credentials cannot be read (" + e.getMessage() + ")\n";
        }
    }

    /**
     * Binds a Unix stream socket at {@code path} with this access's mode and group.
     *
     * @param path where the socket goes (its directory exists)
     * @return the bound channel
     * @throws IOException if it cannot be bound, given its mode or group, or moved into place
     */
    ServerSocketChannel bind(Path path) throws IOException {
        Path dir = Files.createTempDirectory(path.getParent(), ".control-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            Path tmp = dir.resolve("s");
            ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.bind(UnixDomainSocketAddress.of(tmp));
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(group != null ? "rw-rw----" : "rw-------"));
                if (group != null) {
                    GroupPrincipal g = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
                    Files.getFileAttributeView(tmp, PosixFileAttributeView.class).setGroup(g);
                }
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
                return ch;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        } finally {
            Files.deleteIfExists(dir.resolve("s")); // there only if it was not moved
            Files.delete(dir);
        }
    }
}
