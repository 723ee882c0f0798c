package io.flowstack.tests;

import io.flowstack.nic.packet.FanoutMode;

/**
 * {@link PacketKernelCases} with two netisr cores and CPU fanout, which does not follow the
 * stack's hash: frames land on the wrong core and hop, and everything must still work.
 */
class PacketKernelTwoCoreCpuFanoutTest extends PacketKernelCases {
    @Override
    int cores() {
        return 2;
    }

    @Override
    FanoutMode fanout() {
        return FanoutMode.CPU;
    }
}
