import COpenBLAS
import Foundation

/// Makes OpenBLAS use the fastest kernels this CPU supports, single-threaded.
///
/// Debian's OpenBLAS 0.3.21 is built with DYNAMIC_ARCH and picks kernels from the CPUID model number;
/// CPUs newer than it knows (Sapphire Rapids, or any virtual CPU reporting a generic model) fall back to
/// the SSE3 "Prescott" kernels, about 4–8× slower. When that happened and the user did not choose with
/// `OPENBLAS_CORETYPE`, this re-selects the kernel table from the CPU's feature flags (AVX-512 →
/// SkylakeX, AVX2+FMA → Haswell) through OpenBLAS's own `gotoblas_dynamic_init`.
enum BLASRuntime {
    /// Runs once, before the first BLAS call of the engine.
    static func configure() {
        openblas_set_num_threads(1)
        guard getenv("OPENBLAS_CORETYPE") == nil, let name = openblas_get_corename(),
              String(cString: name).lowercased() == "prescott",
              let flags = cpuFlags() else { return }
        let core: String
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains) { core = "SkylakeX" }
        else if ["avx2", "fma"].allSatisfy(flags.contains) { core = "Haswell" }
        else { return }
        typealias Entry = @convention(c) () -> Void
        // dlsym(nil, …) is RTLD_DEFAULT on glibc: search every loaded library.
        guard let quit = dlsym(nil, "gotoblas_dynamic_quit"),
              let initialise = dlsym(nil, "gotoblas_dynamic_init") else { return }
        setenv("OPENBLAS_CORETYPE", core, 0)
        unsafeBitCast(quit, to: Entry.self)()
        unsafeBitCast(initialise, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
        openblas_set_num_threads(1)
    }

    /// The `flags` line of /proc/cpuinfo (Linux), as a set.
    private static func cpuFlags() -> Set<String>? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        return Set(line.split(separator: " ").map(String.init))
    }

    /// The kernel family OpenBLAS is using (e.g. "SkylakeX").
    static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }
}
