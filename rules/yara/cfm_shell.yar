rule cfm_shell
{
    meta:
        id = "shellward-yara-cfm-shell"
        title = "ColdFusion Page Runs A Command Or Writes A File From The Request"
        description = "cfexecute, or cffile writing or uploading, with a name, path or arguments taken from form or URL scope: ColdFusion web shells"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $exec = /<cfexecute\b[^>]{0,200}(#\s*(form|url)\.|#\s*arguments\.)/ nocase
        $file = /<cffile\b[^>]{0,200}action\s*=\s*["'](write|upload|append)["'][^>]{0,200}#\s*(form|url)\./ nocase
        $runtime = /createobject\s*\(\s*["']java["']\s*,\s*["']java\.lang\.runtime["']\s*\)/ nocase
    condition:
        any of them
}
