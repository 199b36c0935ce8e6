package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/flowgate/flowgate/models"
)

// uploadPolicy is what a chatflow accepts as uploads, from the settings Flowise's chat offers
// uploads by: chatbotConfig's fullFileUpload (status, allowedUploadFileTypes), a chat model
// with allowImageUploads in a flow whose chain or agent takes images, and a vector store with
// fileUpload fed by a loader of some file types. Flowise's chat only offers what these allow;
// here the server refuses the rest, before anything is stored.
type uploadPolicy struct {
	full      bool     // whole files, their text before the question
	fullTypes []string // MIME types allowed as whole files
	images    bool
	ragTypes  []string // extensions (".pdf") a vector store's loaders take
}

// imageTypes are the image types Flowise's chat takes, at most imageMaxBytes each.
var imageTypes = []string{"image/gif", "image/jpeg", "image/png", "image/webp"}

const imageMaxBytes = 5 << 20

// imageNodes are the classic nodes that pass images to their model (Flowise's
// imgUploadAllowedNodes).
var imageNodes = []string{"llmChain", "conversationChain", "reactAgentChat", "conversationalAgent", "toolAgent", "supervisor", "seqStart"}

// policyOf reads a chatflow's upload policy. Unreadable settings allow nothing.
func policyOf(f *models.ChatFlow) uploadPolicy {
	var p uploadPolicy
	var cfg struct {
		FullFileUpload struct {
			Status                 bool   `json:"status"`
			AllowedUploadFileTypes string `json:"allowedUploadFileTypes"`
		} `json:"fullFileUpload"`
	}
	if f.ChatbotConfig != nil && json.Unmarshal([]byte(*f.ChatbotConfig), &cfg) == nil {
		p.full = cfg.FullFileUpload.Status
		for _, t := range strings.Split(cfg.FullFileUpload.AllowedUploadFileTypes, ",") {
			if t = strings.TrimSpace(t); t != "" {
				p.fullTypes = append(p.fullTypes, t)
			}
		}
	}
	var flow struct {
		Nodes []struct {
			ID   string `json:"id"`
			Data struct {
				Name        string         `json:"name"`
				Category    string         `json:"category"`
				Inputs      map[string]any `json:"inputs"`
				InputParams []struct {
					Type     string `json:"type"`
					FileType string `json:"fileType"`
				} `json:"inputParams"`
			} `json:"data"`
		} `json:"nodes"`
		Edges []struct {
			Source       string `json:"source"`
			Target       string `json:"target"`
			TargetHandle string `json:"targetHandle"`
		} `json:"edges"`
	}
	if json.Unmarshal([]byte(f.FlowData), &flow) != nil {
		return p
	}
	takesImages := false
	for _, n := range flow.Nodes {
		takesImages = takesImages || slices.Contains(imageNodes, n.Data.Name)
	}
	byID := make(map[string]int, len(flow.Nodes))
	for i, n := range flow.Nodes {
		byID[n.ID] = i
	}
	for _, n := range flow.Nodes {
		d := n.Data
		switch {
		case d.Category == "Agent Flows":
			for _, key := range []string{"agentModelConfig", "llmModelConfig", "conditionAgentModelConfig"} {
				if cfg, _ := d.Inputs[key].(map[string]any); cfg["allowImageUploads"] == true {
					p.images = true
				}
			}
		case d.Category == "Chat Models" && takesImages && d.Inputs["allowImageUploads"] == true:
			p.images = true
		case d.Category == "Vector Stores" && d.Inputs["fileUpload"] == true:
			for _, e := range flow.Edges {
				if e.Target != n.ID || e.TargetHandle != n.ID+"-input-document-Document" {
					continue
				}
				if i, ok := byID[e.Source]; ok {
					for _, param := range flow.Nodes[i].Data.InputParams {
						if param.Type == "file" && param.FileType != "" {
							p.ragTypes = append(p.ragTypes, strings.Split(param.FileType, ", ")...)
						}
					}
				}
			}
		}
	}
	return p
}

// uploadsConfig is Flowise's account of what a chatflow's chat may upload, which its widget
// reads to offer its upload buttons (public-chatbotConfig's uploads, chatflows-uploads).
// Whole-file uploads are not in it: the widget reads chatbotConfig's fullFileUpload for those.
type uploadsConfig struct {
	IsSpeechToTextEnabled  bool           `json:"isSpeechToTextEnabled"`
	IsImageUploadAllowed   bool           `json:"isImageUploadAllowed"`
	IsRAGFileUploadAllowed bool           `json:"isRAGFileUploadAllowed"`
	ImgUploadSizeAndTypes  []sizeAndTypes `json:"imgUploadSizeAndTypes"`
	FileUploadSizeAndTypes []sizeAndTypes `json:"fileUploadSizeAndTypes"`
}

// sizeAndTypes are the types one kind of upload takes, and its size limit in MB.
type sizeAndTypes struct {
	FileTypes     []string `json:"fileTypes"`
	MaxUploadSize int      `json:"maxUploadSize"`
}

// ragMaxMB is the size limit Flowise announces for files sent to a vector store; the body
// limit (FLOWISE_FILE_SIZE_LIMIT) binds first.
const ragMaxMB = 500

// offer is what the policy lets a chat upload, told as Flowise tells it, so what the widget
// offers is what check takes. Speech to text is never on: Flowgate has none.
func (p uploadPolicy) offer() uploadsConfig {
	u := uploadsConfig{ImgUploadSizeAndTypes: []sizeAndTypes{}, FileUploadSizeAndTypes: []sizeAndTypes{}}
	if p.images {
		u.IsImageUploadAllowed = true
		u.ImgUploadSizeAndTypes = append(u.ImgUploadSizeAndTypes, sizeAndTypes{FileTypes: imageTypes, MaxUploadSize: imageMaxBytes >> 20})
	}
	if len(p.ragTypes) > 0 {
		u.IsRAGFileUploadAllowed = true
		u.FileUploadSizeAndTypes = append(u.FileUploadSizeAndTypes, sizeAndTypes{FileTypes: p.ragTypes, MaxUploadSize: ragMaxMB})
	}
	return u
}

// check refuses an upload the chatflow does not take. kind is the upload's type ("file",
// "file:rag", "file:full", "url", "audio", or "form" for a multipart file).
func (p uploadPolicy) check(kind, name, mimeType string, size int) error {
	mimeType = baseMIME(mimeType)
	if kind != "url" && kind != "file:full" { // files whose bytes are stored and served back
		if err := extensionMatches(name, mimeType); err != nil {
			return err
		}
	}
	image := strings.HasPrefix(mimeType, "image/")
	switch {
	case kind == "audio":
		return &uploadError{"Speech to text is not enabled for this chatflow"}
	case image && (kind == "file" || kind == "url"):
		if !p.images {
			return &uploadError{"Image upload is not enabled for this chatflow"}
		}
		if !slices.Contains(imageTypes, mimeType) {
			return &uploadError{fmt.Sprintf("File type '%s' is not allowed. Allowed types: %s", mimeType, strings.Join(imageTypes, ", "))}
		}
		if size > imageMaxBytes {
			return &uploadError{fmt.Sprintf("Image %s is larger than %d MB", name, imageMaxBytes>>20)}
		}
		return nil
	case kind == "file:rag":
		if len(p.ragTypes) == 0 {
			return &uploadError{"File upload to a vector store is not enabled for this chatflow"}
		}
		if !slices.Contains(p.ragTypes, strings.ToLower(path.Ext(name))) {
			return &uploadError{fmt.Sprintf("File type '%s' is not allowed. Allowed types: %s", path.Ext(name), strings.Join(p.ragTypes, ", "))}
		}
		return nil
	}
	// A whole file (file:full, or a file whose text the chain reads).
	if !p.full {
		return &uploadError{"File upload is not enabled for this chatflow"}
	}
	if !slices.Contains(p.fullTypes, mimeType) {
		return &uploadError{fmt.Sprintf("File type '%s' is not allowed. Allowed types: %s", mimeType, strings.Join(p.fullTypes, ", "))}
	}
	return nil
}

// extensionMatches refuses a file whose name's extension is not the one its declared type
// has (Flowise's check against MIME spoofing, CVE-2025-61687: "x.html" sent as text/plain would
// be served back as HTML), a file without an extension, and a type Flowise does not know.
func extensionMatches(name, mimeType string) error {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	ext = cmp.Or(map[string]string{"jpeg": "jpg", "tif": "tiff", "oga": "ogg"}[ext], ext)
	want, known := mimeExtensions[mimeType]
	switch {
	case ext == "":
		return &uploadError{fmt.Sprintf("File %s is not allowed: files must have a valid file extension", name)}
	case !known:
		return &uploadError{fmt.Sprintf("MIME type %q is not supported", mimeType)}
	case ext != want:
		return &uploadError{fmt.Sprintf("MIME type mismatch: file extension %q does not match declared MIME type %q. Expected: %s", ext, mimeType, want)}
	}
	return nil
}

// mimeExtensions is the extension each MIME type Flowise takes must come with.
var mimeExtensions = map[string]string{
	"text/plain": "txt", "text/html": "html", "text/css": "css", "text/javascript": "js", "application/javascript": "js",
	"text/xml": "xml", "application/xml": "xml", "text/markdown": "md", "text/x-markdown": "md",
	"application/pdf": "pdf", "application/json": "json", "text/csv": "csv",
	"application/json-lines": "jsonl", "application/jsonl": "jsonl", "text/jsonl": "jsonl",
	"application/vnd.yaml": "yaml", "application/x-yaml": "yaml", "text/vnd.yaml": "yaml", "text/x-yaml": "yaml", "text/yaml": "yaml",
	"application/sql": "sql", "text/x-sql": "sql",
	"application/msword": "doc", "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
	"application/vnd.ms-excel": "xls", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
	"application/vnd.ms-powerpoint": "ppt", "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
	"application/rtf": "rtf",
	"image/jpeg":      "jpg", "image/jpg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
	"image/svg+xml": "svg", "image/bmp": "bmp", "image/tiff": "tiff", "image/tif": "tiff",
	"image/x-icon": "ico", "image/vnd.microsoft.icon": "ico", "image/avif": "avif",
	"audio/webm": "webm", "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/mpeg": "mp3", "audio/mp3": "mp3",
	"audio/ogg": "ogg", "audio/oga": "ogg", "audio/wav": "wav", "audio/wave": "wav", "audio/x-wav": "wav",
	"audio/aac": "aac", "audio/flac": "flac",
	"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov", "video/x-msvideo": "avi",
}

// baseMIME is a MIME type without its parameters, lower case.
func baseMIME(t string) string {
	base, _, _ := strings.Cut(t, ";")
	return strings.ToLower(strings.TrimSpace(base))
}
