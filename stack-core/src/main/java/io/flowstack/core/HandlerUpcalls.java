package io.flowstack.core;

import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.tcp.TcpUpcalls;
import java.lang.foreign.MemorySegment;

/**
 * The callback API's bridge: TCP's upcalls for one connection turned into the application's
 * {@link TcpHandler} calls on its {@link TcpChannel}.
 *
 * <p>Owned by: the netisr that owns the connection (it moves with it).
 */
final class HandlerUpcalls implements TcpUpcalls {
    private final TcpHandler handler;
    private final TcpChannel channel;

    private HandlerUpcalls(TcpHandler handler, TcpChannel channel) {
        this.handler = handler;
        this.channel = channel;
    }

    /**
     * The binder TCP calls for each connection of {@code handler} (a listener's or a connect's):
     * the channel names the connection's own local address (the one its peer connected to, or
     * the one a connect chose).
     */
    static TcpUpcalls.Binder binder(TcpHandler handler) {
        return (TcpStream s, TcpStream.Kick kick, int localAddr, int localPort, int remoteAddr, int remotePort) ->
                new HandlerUpcalls(handler, new TcpChannel(s, kick, localAddr, localPort, remoteAddr, remotePort));
    }

    @Override
    public void onOpen() {
        handler.onOpen(channel);
    }

    @Override
    public int onData(MemorySegment s, long off, int len) {
        return handler.onData(channel, s, off, len);
    }

    @Override
    public void onPeerClosed() {
        handler.onPeerClosed(channel);
    }

    @Override
    public void onSendSpace() {
        if (channel.takeWantWritable()) {
            handler.onWritable(channel);
        }
    }

    @Override
    public void onClosed(String error) {
        handler.onClosed(channel, error);
    }

    @Override
    public void onMoveOut() {
        handler.onMoveOut(channel);
    }

    @Override
    public void onMoveIn(TcpStream.Kick kick) {
        channel.rebind(kick);
        handler.onMoveIn(channel);
    }

    @Override
    public String toString() {
        return channel.toString();
    }
}
