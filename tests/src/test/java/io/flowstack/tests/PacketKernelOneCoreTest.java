package io.flowstack.tests;

import io.flowstack.nic.packet.FanoutMode;

/** {@link PacketKernelCases} with one netisr core: one AF_PACKET socket, Toeplitz fanout. */
class PacketKernelOneCoreTest extends PacketKernelCases {
    @Override
    int cores() {
        return 1;
    }

    @Override
    FanoutMode fanout() {
        return FanoutMode.TOEPLITZ;
    }
}
