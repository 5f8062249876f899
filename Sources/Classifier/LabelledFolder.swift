import Foundation

/// A labelled image folder: one subfolder per class (`ROOT/<class>/*.png|jpg|tif`), class names sorted.
public struct LabelledFolder: Sendable {
    public struct Entry: Sendable {
        public var path: String
        public var label: Int
        public var group: String
    }
    public let root: String
    public let classNames: [String]
    public let entries: [Entry]
    /// Files whose name the group pattern did not match (each is then its own group).
    public let ungrouped: Int

    static let extensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff"]

    /// Lists `root`. With `classNames` (a model's), every subfolder must be one of them, ignoring case
    /// (`smear crops` writes `parasitized`, the NIH set has `Parasitized`), and labels follow that order;
    /// otherwise the sorted subfolder names become the classes, and must be valid class names
    /// (`Model.classNamesProblem`: e.g. no two folders that differ only in case).
    public init(root: String, groupKey: GroupKey, classNames given: [String]? = nil) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError(description: "\(root): not a folder")
        }
        let folders = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: root + "/" + name, isDirectory: &d) && d.boolValue
        }.sorted()
        guard !folders.isEmpty else { throw DatasetError(description: "\(root): no class subfolders (expected ROOT/<class>/<images>)") }
        let classes = given ?? folders
        func classIndex(_ folder: String) -> Int? { classes.firstIndex { $0.lowercased() == folder.lowercased() } }
        if let given {
            for f in folders where classIndex(f) == nil {
                throw DatasetError(description: "\(root): folder '\(f)' is not a class of the model (\(given.joined(separator: ", ")))")
            }
        } else if classes.count < 2 {
            throw DatasetError(description: "\(root): need at least 2 class subfolders, found \(classes.count)")
        } else if let problem = Model.classNamesProblem(classes) {
            // The folder names become a model's class names: a model with such names would not load.
            throw DatasetError(description: "\(root): \(problem)")
        }
        var entries: [Entry] = [], ungrouped = 0
        for folder in folders {
            let label = classIndex(folder)!
            let files = ((try? fm.contentsOfDirectory(atPath: root + "/" + folder)) ?? [])
                .filter { Self.extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            for f in files {
                let group = groupKey.key(f) ?? { ungrouped += 1; return f }()
                entries.append(Entry(path: root + "/" + folder + "/" + f, label: label, group: group))
            }
        }
        guard !entries.isEmpty else { throw DatasetError(description: "\(root): no images (.png, .jpg, .tif) in the class folders") }
        self.root = root
        classNames = classes
        self.entries = entries
        self.ungrouped = ungrouped
    }

    /// This data set under `names` (a model's classes) when its class folders are those classes in any
    /// case, labels renumbered in that order; `nil` when the classes differ. Does not list the folder again.
    public func adopting(classNames names: [String]) -> LabelledFolder? {
        guard Set(classNames.map { $0.lowercased() }) == Set(names.map { $0.lowercased() }), names.count == classNames.count else { return nil }
        let map = classNames.map { c in names.firstIndex { $0.lowercased() == c.lowercased() }! }
        return LabelledFolder(root: root, classNames: names, entries: entries.map { Entry(path: $0.path, label: map[$0.label], group: $0.group) },
                              ungrouped: ungrouped)
    }

    private init(root: String, classNames: [String], entries: [Entry], ungrouped: Int) {
        self.root = root; self.classNames = classNames; self.entries = entries; self.ungrouped = ungrouped
    }

    /// Images per class.
    public var classCounts: [Int] {
        var c = [Int](repeating: 0, count: classNames.count)
        for e in entries { c[e.label] += 1 }
        return c
    }
}

/// Why a data set folder could not be used; one line naming the folder or file.
public struct DatasetError: Error, CustomStringConvertible { public let description: String }
