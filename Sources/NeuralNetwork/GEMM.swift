import COpenBLAS

/// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major, through OpenBLAS `cblas_sgemm`.
/// op(A) is m×k (A is k×m when `transA`), op(B) is k×n. Cost: 2·m·n·k flops.
@inline(__always)
func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
          _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
          _ b: UnsafePointer<Float>, _ ldb: Int,
          _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Plain triple loop with the same contract as `gemm`; the reference the tests compare against.
func referenceGEMM(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                   _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                   _ b: UnsafePointer<Float>, _ ldb: Int,
                   _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    for i in 0 ..< m {
        for j in 0 ..< n {
            var s: Float = 0
            for p in 0 ..< k {
                s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j])
            }
            c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j])
        }
    }
}
