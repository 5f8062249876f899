extension CellClassifier {
    /// Decision threshold for the bundled model: the probability at or above which `smear analyze`
    /// calls a cell parasitized unless `--threshold` says otherwise. Chosen on validation data; see
    /// MODEL.md ("Decision threshold"). Other models default to 0.5.
    public static let bundledThreshold = 0.5
}
