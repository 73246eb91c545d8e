package dockerfile

// FakeContainer is a Container for tests: Dirs lists the directories it
// has, WorkingDir its image's WORKDIR, and Err, when set, is what every
// question returns.
type FakeContainer struct {
	Dirs       map[string]bool
	WorkingDir string
	Err        error
	Asked      []string // the paths IsDir was asked about, in order
}

// IsDir implements Container.
func (f *FakeContainer) IsDir(path string) (bool, error) {
	f.Asked = append(f.Asked, path)
	return f.Dirs[path], f.Err
}

// Workdir implements Container.
func (f *FakeContainer) Workdir() (string, error) { return f.WorkingDir, f.Err }
