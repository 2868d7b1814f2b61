package mastoapi

import (
	"errors"

	"github.com/commonplace/commonplace/storage"
)

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
