// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for smear's parsers of untrusted input (see README.md beside this file and
// ../FUZZING.md). Each executable is one fuzz target defining `LLVMFuzzerTestOneInput`; they link only
// with libFuzzer, so build this package with `scripts/fuzz`, which runs `swift build --package-path Fuzz
// -c release --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address --scratch-path .build-fuzz`.
// The main package never needs libFuzzer.
let package = Package(
    name: "SmearFuzz",
    dependencies: [
        .package(name: "smear", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "SmearLibrary", package: "smear")]),
        .executableTarget(name: "FuzzDecode", dependencies: ["FuzzSupport", .product(name: "SmearLibrary", package: "smear")]),
        .executableTarget(name: "FuzzPNG", dependencies: ["FuzzSupport", .product(name: "SmearLibrary", package: "smear")]),
        .executableTarget(name: "FuzzJPEG", dependencies: ["FuzzSupport", .product(name: "SmearLibrary", package: "smear")]),
        .executableTarget(name: "FuzzTIFF", dependencies: ["FuzzSupport", .product(name: "SmearLibrary", package: "smear")]),
        .executableTarget(name: "FuzzModel", dependencies: ["FuzzSupport", .product(name: "SmearLibrary", package: "smear")]),
        .executableTarget(name: "FuzzAnnotations", dependencies: ["FuzzSupport", .product(name: "SmearLibrary", package: "smear")]),
    ]
)
