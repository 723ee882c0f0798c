package io.flowstack.core.tcp;

/**
 * The states of a TCP connection, RFC 9293 3.3.2 (figure 5), in the RFC's order: every state
 * from {@link #ESTABLISHED} on is "in sync" (both SYNs acknowledged, RFC 9293 3.5).
 */
public enum TcpState {
    /** No connection: the control block is gone, or never was. */
    CLOSED,
    /** Waiting for a connection request from any remote TCP and port (a listener's replica). */
    LISTEN,
    /** A SYN has been sent; waiting for a matching connection request (active open). */
    SYN_SENT,
    /** A SYN has been received and answered; waiting for the ACK of our SYN. */
    SYN_RECEIVED,
    /** An open connection: data flows both ways. */
    ESTABLISHED,
    /** We have sent our FIN; waiting for its ACK or the peer's FIN. */
    FIN_WAIT_1,
    /** Our FIN is acknowledged; waiting for the peer's FIN. */
    FIN_WAIT_2,
    /** The peer has sent its FIN; waiting for our application to close. */
    CLOSE_WAIT,
    /** Both sides sent FINs at once; waiting for the ACK of ours. */
    CLOSING,
    /** The peer closed first and we sent our FIN; waiting for its ACK. */
    LAST_ACK,
    /** Both FINs acknowledged; waiting 2 MSL so late segments of this connection die out (RFC 9293 3.6). */
    TIME_WAIT;

    /** True once both SYNs are acknowledged (RFC 9293 3.5: both sides in sync). */
    public boolean synced() {
        return compareTo(ESTABLISHED) >= 0;
    }
}
