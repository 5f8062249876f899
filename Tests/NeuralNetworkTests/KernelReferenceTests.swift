import Testing
@testable import NeuralNetwork

@Suite("Fast kernels agree with plain reference loops")
struct KernelReferenceTests {
    func assertClose(_ a: Buffer, _ b: Buffer, tolerance: Float = 1e-4) {
        var worst: Float = 0
        for i in 0 ..< a.count { worst = max(worst, abs(a[i] - b[i]) / max(1, abs(b[i]))) }
        #expect(worst < tolerance)
    }

    @Test(arguments: [(3, 1, 1), (5, 1, 2), (3, 2, 1), (5, 2, 2), (1, 1, 0), (3, 3, 0), (3, 1, 0)])
    func convolutionMatchesDirectLoops(kernel: Int, stride: Int, padding: Int) {
        var rng = SeededGenerator(seed: 1)
        for batch in [1, 7] {  // one sample runs on one thread; seven are split across threads
            let conv = Conv2D(input: Shape(3, 11, 9), filters: 6, kernel: kernel, stride: stride, padding: padding)
            for i in 0 ..< conv.weight.value.count { conv.weight.value[i] = rng.normal() }
            for i in 0 ..< 6 { conv.bias.value[i] = rng.normal() }
            let x = Buffer((0 ..< batch * conv.inputShape.count).map { _ in rng.normal() })
            let fast = Buffer(count: batch * conv.outputShape.count), slow = Buffer(count: fast.count)
            conv.forward(x.pointer, fast.pointer, batch: batch, mode: .inference)
            conv.referenceForward(x.pointer, slow.pointer, batch: batch)
            assertClose(fast, slow)
        }
    }

    @Test func denseMatchesLoops() {
        var rng = SeededGenerator(seed: 2)
        let dense = Dense(input: Shape(4, 3, 3), units: 7)
        for i in 0 ..< dense.weight.value.count { dense.weight.value[i] = rng.normal() }
        let x = Buffer((0 ..< 5 * 36).map { _ in rng.normal() })
        let fast = Buffer(count: 35), slow = Buffer(count: 35)
        dense.forward(x.pointer, fast.pointer, batch: 5, mode: .inference)
        dense.referenceForward(x.pointer, slow.pointer, batch: 5)
        assertClose(fast, slow)
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesTripleLoop(transA: Bool, transB: Bool) {
        var rng = SeededGenerator(seed: 4)
        let m = 5, n = 6, k = 7
        let a = Buffer((0 ..< m * k).map { _ in rng.normal() }), b = Buffer((0 ..< k * n).map { _ in rng.normal() })
        let c1 = Buffer((0 ..< m * n).map { _ in rng.normal() }), c2 = Buffer(c1.array)
        gemm(transA, transB, m, n, k, 0.5, a.pointer, transA ? m : k, b.pointer, transB ? k : n, 2, c1.pointer, n)
        referenceGEMM(transA, transB, m, n, k, 0.5, a.pointer, transA ? m : k, b.pointer, transB ? k : n, 2, c2.pointer, n)
        assertClose(c1, c2)
    }
}
