//! [`FsMediaStore`]: kept attachments as files under one directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rand::Rng as _;
use sha2::{Digest, Sha256};

use super::error::MediaError;
use super::store::{MediaStore, is_sha256};

/// A [`MediaStore`] in a directory: each file at `{root}/{first two hex digits}/{sha256}`,
/// readable by its owner only (`0600`; directories `0700`).
///
/// A file is written to a temporary file beside it, flushed to disk and renamed into place,
/// so a crash or a concurrent reader never sees half a file. On Unix,
/// [`put_unsynced`](MediaStore::put_unsynced) leaves the flush to [`sync`](MediaStore::sync),
/// which flushes the files written since the last one, and their directories, in one go; a
/// file that a crash left short is written again by the next `put` of its bytes.
#[derive(Debug, Clone)]
pub struct FsMediaStore {
    root: Arc<Path>,
    /// Files written by `put_unsynced` and not flushed yet.
    unsynced: Arc<Mutex<Vec<PathBuf>>>,
}

impl FsMediaStore {
    /// A store in `root`, created if missing.
    ///
    /// # Errors
    /// [`MediaError::Io`] when the directory cannot be created.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, MediaError> {
        let root: PathBuf = root.into();
        create_private_dir(&root)?;
        Ok(Self {
            root: root.into(),
            unsynced: Arc::default(),
        })
    }

    /// The directory the files are in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file of `sha256` is (or would be).
    ///
    /// # Errors
    /// [`MediaError::InvalidKey`] when `sha256` is not a lower-case hex SHA-256: no other
    /// text ever becomes a path.
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf, MediaError> {
        if !is_sha256(sha256) {
            return Err(MediaError::InvalidKey(sha256.to_owned()));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }
}

fn io(operation: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> MediaError {
    let path = path.to_path_buf();
    move |source| MediaError::Io {
        operation,
        path,
        source,
    }
}

fn create_private_dir(dir: &Path) -> Result<(), MediaError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(io("create the media directory", dir))
}

/// Writes `bytes` to `path` through a temporary file renamed into place; flushed to disk
/// first when `durable`.
fn write_atomically(path: &Path, bytes: &[u8], durable: bool) -> Result<(), MediaError> {
    let dir = path.parent().unwrap_or(path);
    create_private_dir(dir)?;
    let temp = dir.join(format!(".tmp-{:016x}", rand::rng().random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&temp)
        .map_err(io("create a media file", &temp))
        .and_then(|mut file| {
            file.write_all(bytes)
                .and_then(|()| if durable { file.sync_all() } else { Ok(()) })
                .map_err(io("write a media file", &temp))
        })
        .and_then(|()| std::fs::rename(&temp, path).map_err(io("rename a media file", path)));
    if written.is_err() {
        // Best effort: the write failed already, and a leftover temporary file is harmless.
        let _ = std::fs::remove_file(&temp);
    }
    written
}

fn lock(files: &Mutex<Vec<PathBuf>>) -> std::sync::MutexGuard<'_, Vec<PathBuf>> {
    // A list of paths cannot be left half-changed by a panic.
    files
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, MediaError> + Send + 'static,
) -> Result<T, MediaError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| MediaError::Cancelled)?
}

impl FsMediaStore {
    async fn write(&self, bytes: &[u8], durable: bool) -> Result<String, MediaError> {
        let store = self.clone();
        let bytes = bytes.to_vec();
        // Hashing a large file takes tens of milliseconds: it runs beside the write, off the
        // runtime's threads.
        blocking(move || {
            let sha256 = hex::encode(Sha256::digest(&bytes));
            let path = store.path_of(&sha256)?;
            // Same name, same bytes: a file already there is this one, unless a crash cut it
            // short before it reached the disk.
            let whole = std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64);
            if !whole {
                write_atomically(&path, &bytes, durable)?;
                if !durable {
                    lock(&store.unsynced).push(path);
                }
            }
            Ok(sha256)
        })
        .await
    }
}

#[async_trait]
impl MediaStore for FsMediaStore {
    async fn put(&self, bytes: &[u8]) -> Result<String, MediaError> {
        self.write(bytes, true).await
    }

    #[cfg(unix)]
    async fn put_unsynced(&self, bytes: &[u8]) -> Result<String, MediaError> {
        self.write(bytes, false).await
    }

    #[cfg(unix)]
    async fn sync(&self) -> Result<(), MediaError> {
        let files = std::mem::take(&mut *lock(&self.unsynced));
        if files.is_empty() {
            return Ok(());
        }
        let unsynced = Arc::clone(&self.unsynced);
        blocking(move || {
            let mut dirs: Vec<&Path> = files.iter().filter_map(|f| f.parent()).collect();
            dirs.sort_unstable();
            dirs.dedup();
            // The bytes, then the names: a renamed file's directory entry is only durable
            // once its directory is flushed.
            let flushed = files
                .iter()
                .map(PathBuf::as_path)
                .chain(dirs)
                .try_for_each(|path| match std::fs::File::open(path) {
                    Ok(file) => file
                        .sync_all()
                        .map_err(io("flush a media file to disk", path)),
                    // Deleted meanwhile (its message was unsent): nothing to flush.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(io("flush a media file to disk", path)(e)),
                });
            if flushed.is_err() {
                // Flushed again by the next sync, which then reports its own outcome.
                lock(&unsynced).extend(files);
            }
            flushed
        })
        .await
    }

    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, MediaError> {
        let path = self.path_of(sha256)?;
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read a media file", &path)(e)),
        })
        .await
    }

    async fn delete(&self, sha256: &str) -> Result<(), MediaError> {
        let path = self.path_of(sha256)?;
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("delete a media file", &path)(e)),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_content_addressed_private_and_deletable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FsMediaStore::new(dir.path().join("media")).expect("store");
        let key = store.put(b"hello").await.expect("put");
        assert_eq!(
            key,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(store.put(b"hello").await.expect("put again"), key);
        let path = store.path_of(&key).expect("path");
        assert_eq!(path, dir.path().join("media/2c").join(&key));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        assert_eq!(store.get(&key).await.expect("get"), Some(b"hello".to_vec()));
        store.delete(&key).await.expect("delete");
        assert_eq!(store.get(&key).await.expect("get"), None);
        store.delete(&key).await.expect("deleting twice is fine");
    }

    #[tokio::test]
    async fn unsynced_files_are_whole_and_a_file_cut_short_is_written_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FsMediaStore::new(dir.path().join("media")).expect("store");
        let key = store.put_unsynced(b"picture").await.expect("put unsynced");
        store.sync().await.expect("sync");
        assert_eq!(
            store.get(&key).await.expect("get"),
            Some(b"picture".to_vec())
        );
        // What a crash between the write and the flush can leave: the name, not all the bytes.
        let path = store.path_of(&key).expect("path");
        std::fs::write(&path, b"pic").expect("cut the file short");
        assert_eq!(store.put(b"picture").await.expect("put again"), key);
        assert_eq!(
            store.get(&key).await.expect("get"),
            Some(b"picture".to_vec())
        );
    }

    #[tokio::test]
    async fn keys_that_are_not_sha256_never_become_paths() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FsMediaStore::new(dir.path()).expect("store");
        for key in ["../../etc/passwd", "", &"A".repeat(64), &"a".repeat(63)] {
            assert!(matches!(
                store.get(key).await,
                Err(MediaError::InvalidKey(_))
            ));
        }
    }
}
