import Testing
@testable import NeuralNetwork

@Suite("Fast kernels agree with plain reference loops")
struct KernelReferenceTests {
    func assertClose(_ a: Buffer, _ b: Buffer, tolerance: Float = 1e-4) {
        var worst: Float = 0
        for i in 0 ..< a.count { worst = max(worst, abs(a[i] - b[i]) / max(1, abs(b[i]))) }
        #expect(worst < tolerance)
    }

    @Test(arguments: [(3, 1, 1), (5, 1, 2), (3, 2, 1), (5, 2, 2), (1, 1, 0), (3, 3, 0), (3, 1, 0), (2, 2, 0), (4, 3, 2)])
    func convolutionMatchesDirectLoops(kernel: Int, stride: Int, padding: Int) {
        var rng = SeededGenerator(seed: 1)
        for batch in [1, 7] {  // one sample runs on one thread; seven are split across threads
            let conv = Conv2D(input: Shape(3, 11, 9), filters: 6, kernel: kernel, stride: stride, padding: padding)
            for i in 0 ..< conv.weight.value.count { conv.weight.value[i] = rng.normal() }
            for i in 0 ..< 6 { conv.bias.value[i] = rng.normal() }
            let x = Buffer((0 ..< batch * conv.inputShape.count).map { _ in rng.normal() })
            let fast = Buffer(count: batch * conv.outputShape.count), slow = Buffer(count: fast.count)
            conv.referenceForward(x.pointer, slow.pointer, batch: batch)
            // Inference (phase-plane grid) and training (exact im2col) paths, alternately on the same layer:
            // each path's scratch must survive the other's.
            for mode in [Mode.inference, .training, .inference, .training] {
                fast.zero()
                conv.forward(x.pointer, fast.pointer, batch: batch, mode: mode)
                assertClose(fast, slow)
            }
        }
    }

    /// The padded-plane im2col/col2im against the bounds-testing shifted-plane versions (the original code):
    /// the same values exactly (pure data movement, and the same order of additions), so training arithmetic
    /// does not depend on which one a layer uses.
    @Test(arguments: [(3, 1, 1), (3, 2, 1), (5, 1, 2), (5, 2, 2), (1, 1, 0), (3, 3, 0), (3, 1, 0), (2, 2, 0), (3, 2, 0), (4, 3, 2)])
    func im2colAndCol2imMatchReference(kernel: Int, stride: Int, padding: Int) {
        var rng = SeededGenerator(seed: 5)
        for input in [Shape(3, 11, 9), Shape(2, 12, 12), Shape(4, 7, 16), Shape(1, 25, 25), Shape(2, 20, 18)] {
            let conv = Conv2D(input: input, filters: 2, kernel: kernel, stride: stride, padding: padding)
            let rows = input.channels * kernel * kernel, hw = conv.outputShape.height * conv.outputShape.width
            let ld = hw + 3  // rows further apart than a row, as in grouped GEMMs
            let x = Buffer((0 ..< input.count).map { _ in rng.normal() })
            let expected = Buffer(count: rows * ld), fast = Buffer(count: rows * ld)
            let padded = Buffer(count: conv.paddedCount)
            conv.shiftedIm2col(x.pointer, expected.pointer, ld: ld)
            for _ in 0 ..< 2 {  // twice: the border of the reused padded planes must still be zero
                withExtendedLifetime(padded) { conv.paddedIm2col(x.pointer, fast.pointer, ld: ld, padded: padded.pointer) }
                var same = true
                for r in 0 ..< rows { for j in 0 ..< hw where fast[r * ld + j] != expected[r * ld + j] { same = false } }
                #expect(same, "\(input) k\(kernel) s\(stride) p\(padding)")
            }
            let col = Buffer((0 ..< rows * ld).map { _ in rng.normal() })
            let scratchCol = Buffer(col.array)
            let dxExpected = Buffer(count: input.count), dxFast = Buffer((0 ..< input.count).map { _ in rng.normal() })
            conv.shiftedCol2im(scratchCol.pointer, ld: ld, dxExpected.pointer)
            let dpadded = Buffer(count: conv.paddedCount)
            withExtendedLifetime(dpadded) { conv.paddedCol2im(col.pointer, ld: ld, dxFast.pointer, padded: dpadded.pointer) }
            #expect(dxFast.array == dxExpected.array, "\(input) k\(kernel) s\(stride) p\(padding)")
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
