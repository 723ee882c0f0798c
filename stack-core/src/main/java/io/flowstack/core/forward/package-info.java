/**
 * The per-datagram transforms of IPv4 forwarding (RFC 1812 chapter 5), over frames in off-heap
 * memory: TTL decrement with an incremental checksum update ({@link
 * io.flowstack.core.forward.Ipv4Forward}), fragmentation of a forwarded datagram ({@link
 * io.flowstack.core.forward.Fragmenter}), software segmentation of a TCP super-frame ({@link
 * io.flowstack.core.forward.SoftGso}), completion of a partial checksum, and the sizes of an ICMP
 * error about a forwarded datagram ({@link io.flowstack.core.forward.ForwardIcmp}).
 *
 * <p>Layer: right above {@code io.flowstack.core.ip}; uses only the wire views. Every class is
 * stateless and allocation-free: it works on the caller's segments and hands each output frame
 * to a {@link io.flowstack.core.forward.FragmentSink} before writing the next into the same
 * buffer.
 */
package io.flowstack.core.forward;
