// swift-tools-version:6.0
import PackageDescription

// The folders under Sources/ follow the pipeline: image codecs → segmentation → neural network /
// classifier → pipeline → reports → the `smear` command. The C* targets wrap system libraries
// (install them with `scripts/setup`; see README.md).
let package = Package(
    name: "smear",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "smear", targets: ["smear"]),
        // The library stages, for the fuzz targets in Fuzz/ (a separate package built with libFuzzer).
        .library(name: "SmearLibrary", targets: ["ImageCodecs", "Segmentation", "NeuralNetwork", "Classifier", "Pipeline", "Reports", "Slides"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        // `smear serve`: the HTTP server and the SQLite database of the web app.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // System libraries (Debian: libpng-dev, libturbojpeg0-dev, libtiff-dev, zlib1g-dev, libopenblas-dev,
        // pkg-config).
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // Whole-slide vendor formats (SVS, NDPI, MRXS, SCN, …); Debian: libopenslide-dev (3.4.1).
        .systemLibrary(name: "COpenSlide", pkgConfig: "openslide", providers: [.apt(["libopenslide-dev"])]),

        .target(name: "ImageCodecs", dependencies: ["CPNG", "CTurboJPEG", "CTIFF", "CZlib", "CDeflate"]),
        .target(name: "Segmentation", dependencies: ["ImageCodecs"]),
        .target(name: "NeuralNetwork", dependencies: ["COpenBLAS"]),
        .target(name: "Classifier", dependencies: ["NeuralNetwork", "ImageCodecs"],
                resources: [.copy("Resources")]),
        .target(name: "Pipeline", dependencies: ["ImageCodecs", "Segmentation", "Classifier", "Slides"]),
        .target(name: "Reports", dependencies: ["Pipeline", "Classifier", "ImageCodecs", "Segmentation"]),
        // Whole-slide images read region by region (tiled/pyramidal TIFF, BigTIFF, OME-TIFF; OpenSlide formats).
        .target(name: "Slides", dependencies: ["ImageCodecs", "CTIFF", "COpenSlide"]),
        // `smear serve`: analyses queued, stored in SQLite, reviewed and signed off in the browser.
        .target(name: "WebApp", dependencies: [
            "ImageCodecs", "Segmentation", "Classifier", "Pipeline", "Reports", "Slides",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ], resources: [.copy("Assets")]),
        .executableTarget(name: "smear", dependencies: [
            "ImageCodecs", "Segmentation", "NeuralNetwork", "Classifier", "Pipeline", "Reports", "Slides", "WebApp",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Encode/decode timings on real fields (see BENCHMARKS.md).
        .executableTarget(name: "smear-bench", dependencies: [
            "ImageCodecs", "Segmentation", "Pipeline", "Classifier", "CPNG", "Slides",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "ImageCodecsTests", dependencies: ["ImageCodecs", "CPNG", "CTurboJPEG", "CTIFF", "CZlib"]),
        .testTarget(name: "SegmentationTests", dependencies: ["Segmentation", "ImageCodecs"]),
        .testTarget(name: "NeuralNetworkTests", dependencies: ["NeuralNetwork"]),
        .testTarget(name: "ClassifierTests", dependencies: ["Classifier", "NeuralNetwork", "ImageCodecs"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Segmentation", "Classifier", "ImageCodecs"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Pipeline", "ImageCodecs", "Segmentation",
                                                        .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "SmearEndToEndTests", dependencies: ["ImageCodecs", "Slides", "Classifier"]),
        .testTarget(name: "WebAppTests", dependencies: [
            "WebApp", "Pipeline", "ImageCodecs",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "SlidesTests", dependencies: ["Slides", "ImageCodecs", "CTIFF"]),
    ]
)
