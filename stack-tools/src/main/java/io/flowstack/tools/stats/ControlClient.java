package io.flowstack.tools.stats;

import io.flowstack.core.socket.StackException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of the {@link ControlServer} protocol: one request, one answer per
 * connection. Stateless (any thread).
 */
public final class ControlClient {
    private ControlClient() {
    }

    /**
     * Sends {@code request} ({@code text}, {@code json} or {@code prometheus}) to the control
     * socket at {@code path} and returns the report.
     *
     * @throws StackException with a one-line message when no instance answers there or it
     *                        reports an error
     */
    public static String request(Path path, String request) {
        if (!Files.exists(path)) {
            throw new StackException("no running instance: control socket " + path + " does not exist"
                    + running(path.getParent()) + " (start one with: stack endpoint --tap NAME ... or stack router --if ...)");
        }
        byte[] answer;
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(path));
            ByteBuffer out = ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                c.write(out);
            }
            ByteArrayOutputStream all = new ByteArrayOutputStream(16 * 1024);
            ByteBuffer in = ByteBuffer.allocate(16 * 1024);
            while (c.read(in) >= 0) {
                all.write(in.array(), 0, in.position());
                in.clear();
            }
            answer = all.toByteArray();
        } catch (AccessDeniedException e) {
            throw new StackException("permission denied on control socket " + path + ": run as root (like the endpoint)");
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Permission denied")) {
                throw new StackException("permission denied on control socket " + path
                        + ": run as root (like the endpoint)");
            }
            if (m.contains("Connection refused")) {
                throw new StackException("no running instance answers on " + path
                        + ": connection refused (a socket left by an endpoint that was killed? remove it)");
            }
            throw new StackException("control socket " + path + ": " + m);
        }
        String text = new String(answer, StandardCharsets.UTF_8);
        if (text.startsWith("ok\n")) {
            return text.substring(3);
        }
        if (text.startsWith("error: ")) {
            throw new StackException("the instance at " + path + " answered: " + text.substring(7).strip());
        }
        throw new StackException("the instance at " + path + " closed the connection without an answer"
                + (text.isEmpty() ? " (it is probably stopping)" : ": '" + abbreviate(text) + "'"));
    }

    /** Instance names with a socket in {@code dir}, for messages: " (running: a, b)" or "". */
    static String running(Path dir) {
        List<String> names = instances(dir);
        return names.isEmpty() ? "" : " (sockets in " + dir + ": " + String.join(", ", names) + ")";
    }

    /** Names of the {@code NAME.sock} files in {@code dir}, sorted; empty if none or unreadable. */
    public static List<String> instances(Path dir) {
        List<String> names = new ArrayList<>();
        if (dir == null || !Files.isDirectory(dir)) {
            return names;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.sock")) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                names.add(f.substring(0, f.length() - ".sock".length()));
            }
        } catch (IOException e) {
            return names;
        }
        names.sort(null);
        return names;
    }

    private static String abbreviate(String s) {
        String one = s.strip().replaceAll("\\s+", " ");
        return one.length() > 80 ? one.substring(0, 80) + "..." : one;
    }
}
