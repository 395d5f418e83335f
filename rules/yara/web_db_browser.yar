rule web_db_browser
{
    meta:
        id = "shellward-yara-web-db-browser"
        title = "Web Page Connects To A Database Named In The Request"
        description = "A server page that opens a database connection whose driver or connection string comes from the request, and runs the SQL sent with it: web shell database browsers (JSP, ASPX, ASP, PHP)"
        level = "high"
        attack = "attack.persistence, attack.t1505.003, attack.collection, attack.t1213"
        author = "shellward"
    strings:
        $jsp = /drivermanager\s*\.\s*getconnection\s*\(\s*(request\s*\.\s*getparameter|[a-z_]{1,12}\s*\[\s*1\s*\]|x\s*\[)/ nocase
        $jsp_forname = /class\s*\.\s*forname\s*\(\s*(request\s*\.\s*getparameter|x\s*\[\s*0\s*\])/ nocase
        $net = /new\s+(system\.data\.sqlclient\.|system\.data\.oledb\.)?(sqlconnection|oledbconnection|odbcconnection)\s*\(\s*request/ nocase
        $asp = /\.open\s*\(?\s*request\s*(\.\s*(form|querystring))?\s*\(/ nocase
        $adodb = /createobject\s*\(\s*["']adodb\.connection["']/ nocase
        $php = /\b(mysqli?_connect|new\s+(mysqli|pdo))\s*\(\s*\$_(POST|GET|REQUEST)\b/ nocase
    condition:
        $jsp or $jsp_forname or $net or ($asp and $adodb) or $php
}
