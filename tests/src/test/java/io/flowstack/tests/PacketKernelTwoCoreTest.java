package io.flowstack.tests;

import io.flowstack.nic.packet.FanoutMode;

/**
 * {@link PacketKernelCases} with two netisr cores and the kernel steering every frame to the
 * core that owns its flow (Toeplitz fanout): no frame may hop.
 */
class PacketKernelTwoCoreTest extends PacketKernelCases {
    @Override
    int cores() {
        return 2;
    }

    @Override
    FanoutMode fanout() {
        return FanoutMode.TOEPLITZ;
    }
}
