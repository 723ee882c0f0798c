package io.flowstack.tests;

import io.flowstack.nic.packet.FanoutMode;

/**
 * {@link PacketKernelCases} with one core against a kernel peer whose veth has tx-checksumming
 * and TSO off: finished checksums and MTU-sized frames, as a wire delivers them (the path a real
 * NIC without GRO takes).
 */
class PacketKernelWireLikeTest extends PacketKernelCases {
    @Override
    int cores() {
        return 1;
    }

    @Override
    FanoutMode fanout() {
        return FanoutMode.TOEPLITZ;
    }

    @Override
    boolean peerOffloads() {
        return false;
    }
}
